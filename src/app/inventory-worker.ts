import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { RedisStreamsServer } from '../index';
import type { AppConfig } from './config/app.config';
import { InventoryWorkerModule } from './inventory-worker.module';
import { INVENTORY_SERVER, INVENTORY_SERVICE } from './inventory/inventory.transport';
import { useStructuredLogs } from './logging/logging.module';
import { startServers } from './orders/orders.setup';

/**
 * `npm run start:inventory`: the inventory service as its own process (run the API with INVENTORY_SERVER=false to
 * leave all requests to it, or not, to share them). It answers the API's `inventory.reserve` / `inventory.release`
 * requests through Redis; its HTTP server on INVENTORY_PORT (default 3002) serves only the probes. Needs the same
 * Redis settings and database (DATABASE_URL) as the API.
 */
async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(InventoryWorkerModule, {
    abortOnError: false,
    bufferLogs: true,
    forceCloseConnections: true,
  });
  useStructuredLogs(app);
  // After a signal: the requests being handled finish and reply, then exit(0).
  app.enableShutdownHooks([], { useProcessExit: true });
  await startServers(app, [[INVENTORY_SERVICE, INVENTORY_SERVER]]);
  const port = app.get(ConfigService<AppConfig, true>).get('INVENTORY_PORT', { infer: true });
  await app.listen(port);
  const address = app.getHttpServer().address();
  const server = app.get<RedisStreamsServer>(INVENTORY_SERVER);
  Logger.log(
    `inventory: service "${INVENTORY_SERVICE}" answering ${server.streams.join(', ')}; ` +
      `probes on http://localhost:${typeof address === 'object' && address ? address.port : port} (/health, /metrics)`,
    'Inventory',
  );
}

bootstrap().catch((err: unknown) => {
  Logger.error(`Startup failed: ${err instanceof Error ? err.message : String(err)}`, 'Inventory');
  process.exit(1);
});
