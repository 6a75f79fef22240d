/**
 * Imported first by main.ts, worker.ts and inventory-worker.ts (before Nest, express and ioredis): starts
 * OpenTelemetry when an OTLP endpoint is configured (see telemetry.ts), with `service.name` `nest-redis-kit-api`,
 * `nest-redis-kit-worker` or `nest-redis-kit-inventory-worker` (after the entry file) unless `OTEL_SERVICE_NAME` says
 * otherwise.
 */
import { basename } from 'node:path';
import { startTelemetry } from './telemetry';

const entry = basename(process.argv[1] ?? 'main.js').replace(/\.[cm]?[jt]s$/, '');
startTelemetry({ serviceName: `nest-redis-kit-${entry === 'main' ? 'api' : entry}` });
