import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagingExplorer } from '../index';
import { WorkerModule } from './worker.module';

/**
 * `npm run start:worker`: the notifications service as its own process (a Nest application context, no HTTP).
 * It talks to the API only through Redis: it consumes the `orders` stream and publishes `order.confirmed`.
 * Needs the same Redis settings as the API (REDIS_URL, or REDIS_SENTINELS / REDIS_CLUSTER_NODES: the same
 * coreModules() read them) and a shared database (DATABASE_URL: PGlite data dirs cannot be shared).
 */
async function bootstrap(): Promise<void> {
  const app = await NestFactory.createApplicationContext(WorkerModule);
  app.enableShutdownHooks();
  const consumers = app.get(MessagingExplorer).consumers;
  Logger.log(
    `worker consuming ${consumers.map((c) => `${c.stream}/${c.group} as ${c.consumer}`).join(', ')}`,
    'Worker',
  );
}

bootstrap().catch((err: unknown) => {
  Logger.error(err instanceof Error ? err.message : String(err), 'Worker');
  process.exit(1);
});
