import './telemetry/telemetry.start'; // first: OpenTelemetry (when configured) before Nest, express, ioredis
import 'reflect-metadata';
import { StreamConsumerRegistry } from '../index';
import { NOTIFICATIONS_SERVER, NOTIFICATIONS_SERVICE } from './notifications/notifications.transport';
import { runServiceProcess } from './service-process';
import { WorkerModule } from './worker.module';

/**
 * `npm run start:worker`: the notifications service as its own process. It talks to the API only through Redis:
 * it handles `order.created` (a durable event of the transport) and publishes `order.confirmed`, and it records
 * the reminders. Its HTTP server on WORKER_PORT (default 3001) serves only the probes: `/health`, `/health/ready`
 * and `/metrics`. Logs are JSON lines (LOG_LEVEL). Needs the same Redis settings as the API (REDIS_URL, or
 * REDIS_SENTINELS / REDIS_CLUSTER_NODES: the same coreModules() read them) and a shared database (DATABASE_URL:
 * PGlite data dirs cannot be shared).
 */
runServiceProcess({
  module: WorkerModule,
  context: 'Worker',
  service: [NOTIFICATIONS_SERVICE, NOTIFICATIONS_SERVER],
  portKey: 'WORKER_PORT',
  describe: (server, app, probes) =>
    `worker: service "${NOTIFICATIONS_SERVICE}" handling ${server.streams.join(', ')}; consuming ` +
    `${app
      .get(StreamConsumerRegistry)
      .consumers.map((c) => `${c.stream}/${c.group} as ${c.consumer}`)
      .join(', ')}; probes on ${probes} (/health, /metrics)`,
});
