import './telemetry/telemetry.start'; // first: OpenTelemetry (when configured) before Nest, express, ioredis
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigService } from '@nestjs/config';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { startServices } from './orders/orders.setup';
import type { AppConfig } from './config/app.config';
import { RedisServerNotFoundError, redactUrl, startEmbeddedRedis } from './embedded-redis';

/**
 * Starts the reference service on PORT (default 3000): the API, and in the same process the inventory and
 * notifications services (see startServices). Without REDIS_URL it first starts a private
 * redis-server (free port, temp dir, no persistence) that lives and dies with this process (REDIS_SENTINELS
 * and REDIS_CLUSTER_NODES also count as "Redis given").
 */
async function bootstrap(): Promise<void> {
  if (!process.env.REDIS_URL && !process.env.REDIS_SENTINELS && !process.env.REDIS_CLUSTER_NODES) {
    const redis = await startEmbeddedRedis();
    process.env.REDIS_URL = redis.url;
    Logger.log(
      `Redis: private redis-server ${redis.version} at ${redis.url} (pid ${redis.pid}, no persistence, stopped with the service)`,
      'Bootstrap',
    );
  } else if (process.env.REDIS_CLUSTER_NODES) {
    Logger.log(`Redis: Cluster via ${process.env.REDIS_CLUSTER_NODES} (from REDIS_CLUSTER_NODES)`, 'Bootstrap');
  } else if (process.env.REDIS_SENTINELS) {
    Logger.log(`Redis: Sentinel group via ${process.env.REDIS_SENTINELS} (from REDIS_SENTINELS)`, 'Bootstrap');
  } else {
    Logger.log(`Redis: ${redactUrl(process.env.REDIS_URL ?? '')} (from REDIS_URL)`, 'Bootstrap');
  }
  // abortOnError: false → a startup failure is an exception we report in one line, not process.abort().
  // bufferLogs: startup lines wait for the JSON logger configureApp installs (flushed on a startup error too).
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    abortOnError: false,
    bufferLogs: true,
    return503OnClosing: true, // once shutting down: 503 + `Connection: close`, so keep-alive clients let go
    forceCloseConnections: true, // then sockets still open (SSE, busy keep-alive) are destroyed: no hanging shutdown
  });
  configureApp(app);
  // Hybrid app: the inventory and notifications services run here too unless INVENTORY_SERVER=false /
  // MESSAGING_CONSUMERS=false (then `npm run start:inventory` / `npm run start:worker` run them).
  const services = await startServices(app);
  const port = app.get(ConfigService<AppConfig, true>).get('PORT', { infer: true });
  await app.listen(port);
  Logger.log(
    `nest-redis-kit reference service listening on http://localhost:${port}` +
      (services.length > 0 ? `; services here: ${services.join(', ')}` : ''),
    'Bootstrap',
  );
}

bootstrap().catch((err: unknown) => {
  if (err instanceof RedisServerNotFoundError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    Logger.error(`Startup failed: ${err instanceof Error ? err.message : String(err)}`, 'Bootstrap');
  }
  process.exit(1);
});
