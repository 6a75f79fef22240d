import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DatabaseHealthIndicator } from './database.health';
import { HealthController } from './health.controller';

/** Liveness and readiness endpoints of the reference service. */
@Module({ imports: [TerminusModule], controllers: [HealthController], providers: [DatabaseHealthIndicator] })
export class HealthModule {}
