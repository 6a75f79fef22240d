import { Logger, type Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { RedisStreamsServer } from '../index';
import type { AppConfig } from './config/app.config';
import { useStructuredLogs } from './logging/logging.module';
import { startServers } from './orders/orders.setup';

/** What {@link runServiceProcess} starts. */
export interface ServiceProcessOptions {
  /** The process's module (core modules, probes, the service's module). */
  module: Type;
  /** Logger context of the startup line, e.g. `Worker`. */
  context: string;
  /** The service's name and the token of its `RedisStreamsServer`. */
  service: [name: string, serverToken: string];
  /** Configuration key of the probes' HTTP port. */
  portKey: 'WORKER_PORT' | 'INVENTORY_PORT';
  /** The startup line, given the server, the app and the probes' address. */
  describe: (server: RedisStreamsServer, app: NestExpressApplication, probes: string) => string;
}

/**
 * One service of the shop as its own process (`npm run start:worker`, `npm run start:inventory`): the Nest app of
 * `module` with JSON logs, its service's transport server started, an HTTP server for the probes only, and a
 * graceful stop on SIGTERM/SIGINT (the handlers in flight finish, then exit(0)). A startup failure is one log line
 * and exit code 1.
 */
export function runServiceProcess(o: ServiceProcessOptions): void {
  const start = async (): Promise<void> => {
    const app = await NestFactory.create<NestExpressApplication>(o.module, {
      abortOnError: false,
      bufferLogs: true, // startup lines wait for the JSON logger
      forceCloseConnections: true, // a scrape in progress does not hold up shutdown
    });
    useStructuredLogs(app);
    app.enableShutdownHooks([], { useProcessExit: true });
    await startServers(app, [o.service]);
    const port = app.get(ConfigService<AppConfig, true>).get(o.portKey, { infer: true });
    await app.listen(port);
    const address = app.getHttpServer().address();
    const probes = `http://localhost:${typeof address === 'object' && address ? address.port : port}`;
    Logger.log(o.describe(app.get<RedisStreamsServer>(o.service[1]), app, probes), o.context);
  };
  start().catch((err: unknown) => {
    Logger.error(`Startup failed: ${err instanceof Error ? err.message : String(err)}`, o.context);
    process.exit(1);
  });
}
