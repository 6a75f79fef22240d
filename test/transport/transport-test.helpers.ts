import type { INestApplication, INestMicroservice, Type } from '@nestjs/common';
import type { AsyncMicroserviceOptions } from '@nestjs/microservices';
import { Test, type TestingModule } from '@nestjs/testing';
import { RedisModule, type RedisModuleOptions } from '../../src/redis';
import { MessagingModule } from '../../src/messaging';
import {
  RedisStreamsServer,
  rpcValidationPipe,
  RedisStreamsTransportModule,
  type RedisStreamsTransportOptions,
} from '../../src/transport';
import { Recorder } from '../messaging/messaging-test.helpers';

/** Token of the label a test service's handlers record with. */
export const SERVICE_LABEL = 'transport-test:label';

/** Consumer settings that keep a test short: fast reads and reclaims, two attempts before the DLQ. */
export const FAST_CONSUMER = { blockMs: 200, claimIdleMs: 500, maxAttempts: 2, backoffMs: 10 };

/** RedisModule, MessagingModule and the transport module with `transport`. */
function transportImports(redis: RedisModuleOptions, transport: RedisStreamsTransportOptions) {
  return [RedisModule.forRoot(redis), MessagingModule.forRoot({}), RedisStreamsTransportModule.forRoot(transport)];
}

/** An initialized app with the transport and no microservice (a pure client when `transport.service` is unset). */
export async function createTransportApp(
  redis: RedisModuleOptions,
  transport: RedisStreamsTransportOptions,
): Promise<TestingModule> {
  const ref = await Test.createTestingModule({
    imports: transportImports(redis, transport),
    providers: [Recorder],
  }).compile();
  ref.useLogger(false);
  await ref.init();
  return ref;
}

/**
 * A hybrid app (HTTP app + the transport's microservice, `inheritAppConfig` so the global pipe applies) serving
 * `controllers` as service `service`.
 */
export async function startHybridService(
  redis: RedisModuleOptions,
  transport: RedisStreamsTransportOptions,
  controllers: Type[],
  label: string,
  providers: Type[] = [],
): Promise<INestApplication> {
  const ref = await Test.createTestingModule({
    imports: transportImports(redis, transport),
    controllers,
    providers: [Recorder, { provide: SERVICE_LABEL, useValue: label }, ...providers],
  }).compile();
  const app = ref.createNestApplication({ logger: false });
  app.useGlobalPipes(rpcValidationPipe());
  app.connectMicroservice({ strategy: app.get(RedisStreamsServer) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.init();
  return app;
}

/** A pure microservice (no HTTP) serving `controllers`, the strategy taken from the module's providers. */
export async function startMicroservice(
  redis: RedisModuleOptions,
  transport: RedisStreamsTransportOptions,
  controllers: Type[],
  label: string,
): Promise<INestMicroservice> {
  const ref = await Test.createTestingModule({
    imports: transportImports(redis, transport),
    controllers,
    providers: [Recorder, { provide: SERVICE_LABEL, useValue: label }],
  }).compile();
  const app = ref.createNestMicroservice<AsyncMicroserviceOptions>({
    inject: [RedisStreamsServer],
    useFactory: (strategy: RedisStreamsServer) => ({ strategy }),
  });
  app.useLogger(false);
  app.useGlobalPipes(rpcValidationPipe());
  await app.listen();
  return app;
}
