import type { FactoryProvider } from '@nestjs/common';
import { RedisStreamsServer } from '../../index';

/**
 * The `RedisStreamsServer` of one service of the reference service under `token`, bound to `transportId`: a
 * process may host several services (`npm start` hosts the inventory and the notifications), each a server of its
 * own (its consumer group and request stream named after the service), and `@MessagePattern(p, transportId)` /
 * `@EventPattern(p, transportId)` handlers go to that server only. Provide it in a module that imports
 * `RedisStreamsTransportModule.forRoot({ service, isGlobal: false })`; it must be set before `connectMicroservice`.
 */
export function serviceServerProvider(token: string, transportId: symbol): FactoryProvider<RedisStreamsServer> {
  return {
    provide: token,
    inject: [RedisStreamsServer],
    useFactory: (server: RedisStreamsServer) => {
      server.setTransportId(transportId);
      return server;
    },
  };
}
