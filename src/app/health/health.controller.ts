import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { RedisHealthIndicator } from '../../index';
import { DatabaseHealthIndicator } from './database.health';

/**
 * `GET /health`: 200 when every Redis connection answers PING, 503 with per-client status otherwise.
 * `GET /health/ready`: readiness for a load balancer: Redis clients AND the database (`SELECT 1`).
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly database: DatabaseHealthIndicator,
  ) {}

  /** Every Redis connection, dedicated ones included, with latency. */
  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.redis.isHealthy('redis')]);
  }

  /** Ready to serve: every Redis connection answers PING and the database answers `SELECT 1` (503 otherwise). */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.redis.isHealthy('redis'), () => this.database.isHealthy('database')]);
  }
}
