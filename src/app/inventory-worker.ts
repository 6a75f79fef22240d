import './telemetry/telemetry.start'; // first: OpenTelemetry (when configured) before Nest, express, ioredis
import 'reflect-metadata';
import { InventoryWorkerModule } from './inventory-worker.module';
import { INVENTORY_SERVER, INVENTORY_SERVICE } from './inventory/inventory.transport';
import { runServiceProcess } from './service-process';

/**
 * `npm run start:inventory`: the inventory service as its own process (run the API with INVENTORY_SERVER=false to
 * leave all requests to it, or not, to share them). It answers the API's `inventory.reserve` / `inventory.release`
 * requests through Redis; its HTTP server on INVENTORY_PORT (default 3002) serves only the probes: `/health`,
 * `/health/ready` and `/metrics`. Needs the same Redis settings and database (DATABASE_URL) as the API.
 */
runServiceProcess({
  module: InventoryWorkerModule,
  context: 'Inventory',
  service: [INVENTORY_SERVICE, INVENTORY_SERVER],
  portKey: 'INVENTORY_PORT',
  describe: (server, _app, probes) =>
    `inventory: service "${INVENTORY_SERVICE}" answering ${server.streams.join(', ')}; probes on ${probes} (/health, /metrics)`,
});
