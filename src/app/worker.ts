import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { StreamConsumerRegistry, type RedisStreamsServer } from '../index';
import type { AppConfig } from './config/app.config';
import { useStructuredLogs } from './logging/logging.module';
import { NOTIFICATIONS_SERVER, NOTIFICATIONS_SERVICE } from './notifications/notifications.transport';
import { startServers } from './orders/orders.setup';
import { WorkerModule } from './worker.module';

/**
 * `npm run start:worker`: the notifications service as its own process. It talks to the API only through Redis:
 * it handles `order.created` (a durable event of the transport) and publishes `order.confirmed`, and it records
 * the reminders. Its HTTP server on WORKER_PORT (default 3001) serves only the probes: `/health`, `/health/ready`
 * and `/metrics`. Logs are JSON lines (LOG_LEVEL). Needs the same Redis settings as the API (REDIS_URL, or
 * REDIS_SENTINELS / REDIS_CLUSTER_NODES: the same coreModules() read them) and a shared database (DATABASE_URL:
 * PGlite data dirs cannot be shared).
 */
async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(WorkerModule, {
    abortOnError: false,
    bufferLogs: true, // startup lines wait for the JSON logger
    forceCloseConnections: true, // a scrape in progress does not hold up shutdown
  });
  useStructuredLogs(app);
  // useProcessExit: after a signal's graceful shutdown (handlers drained) the process ends with exit(0)
  app.enableShutdownHooks([], { useProcessExit: true });
  await startServers(app, [[NOTIFICATIONS_SERVICE, NOTIFICATIONS_SERVER]]);
  const port = app.get(ConfigService<AppConfig, true>).get('WORKER_PORT', { infer: true });
  await app.listen(port);
  const address = app.getHttpServer().address();
  const server = app.get<RedisStreamsServer>(NOTIFICATIONS_SERVER);
  const consumers = app.get(StreamConsumerRegistry).consumers;
  Logger.log(
    `worker: service "${NOTIFICATIONS_SERVICE}" handling ${server.streams.join(', ')}; consuming ` +
      `${consumers.map((c) => `${c.stream}/${c.group} as ${c.consumer}`).join(', ')}; ` +
      `probes on http://localhost:${typeof address === 'object' && address ? address.port : port} (/health, /metrics)`,
    'Worker',
  );
}

bootstrap().catch((err: unknown) => {
  Logger.error(`Startup failed: ${err instanceof Error ? err.message : String(err)}`, 'Worker');
  process.exit(1);
});
