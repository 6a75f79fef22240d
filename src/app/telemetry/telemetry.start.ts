/**
 * Imported first by main.ts and worker.ts (before Nest, express and ioredis): starts OpenTelemetry when an OTLP
 * endpoint is configured (see telemetry.ts), with `service.name` `nest-redis-kit-api` or `nest-redis-kit-worker`
 * unless `OTEL_SERVICE_NAME` says otherwise.
 */
import { basename } from 'node:path';
import { startTelemetry } from './telemetry';

startTelemetry({
  serviceName: /^worker\.[jt]s$/.test(basename(process.argv[1] ?? '')) ? 'nest-redis-kit-worker' : 'nest-redis-kit-api',
});
