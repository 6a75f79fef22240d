import type { Provider } from '@nestjs/common';
import type { ResolvedMessagingOptions } from '../messaging/messaging.options';
import { MESSAGING_RESOLVED_OPTIONS } from '../messaging/messaging.providers';
import { TRANSPORT_MODULE_OPTIONS } from './transport.constants';
import { resolveTransportOptions, type RedisStreamsTransportOptions } from './transport.options';

/** Injection token of the validated transport options (internal). */
export const TRANSPORT_RESOLVED_OPTIONS = 'nest-redis-kit:transport:resolved-options';

/** Validates the module options once, at startup, on top of MessagingModule's consumer defaults. */
export const resolvedTransportOptionsProvider: Provider = {
  provide: TRANSPORT_RESOLVED_OPTIONS,
  inject: [TRANSPORT_MODULE_OPTIONS, MESSAGING_RESOLVED_OPTIONS],
  useFactory: (options: RedisStreamsTransportOptions | undefined, messaging: ResolvedMessagingOptions) =>
    resolveTransportOptions(options ?? {}, messaging.consumerDefaults),
};
