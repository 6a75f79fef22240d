/**
 * The place for the messaging-transport rows: our Nest microservice transport (`ClientProxy.emit` / `send` through
 * the library's CustomTransportStrategy) vs `@nestjs/microservices` Transport.REDIS, target 3.0 like every
 * messaging row. The transport does not exist yet; until it does, the rows print as PENDING (never a failure).
 * To add them: set up both transports here (see pubsub.peer.ts for the Transport.REDIS side and MessageSink for
 * end-to-end bursts), return their cases, and remove the pending rows.
 */
import { MESSAGING_TARGET, pendingRow, type PeerGroup } from './peer-suite';

export const transportPeers: PeerGroup = {
  name: 'transport',
  setup: () =>
    Promise.resolve({
      cases: [],
      measured: () =>
        Promise.resolve([
          pendingRow('transport', 'emit: our transport / Transport.REDIS emit -> @EventPattern', MESSAGING_TARGET),
          pendingRow(
            'transport',
            'send: our transport / Transport.REDIS send -> @MessagePattern reply',
            MESSAGING_TARGET,
          ),
        ]),
      teardown: () => Promise.resolve(),
    }),
};
