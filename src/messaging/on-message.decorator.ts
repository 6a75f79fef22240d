import { ON_MESSAGE_METADATA } from './messaging.constants';
import type { PayloadDto } from './payload-validation';

/** Options of `@OnMessage`. */
export interface OnMessageOptions {
  /** Treat the channel as a glob pattern (`orders.*`), PSUBSCRIBE. Not available with sharded pub/sub on Cluster. */
  pattern?: boolean;
  /** Validate the payload with this class-validator DTO; an invalid message is logged and counted, the handler not called. */
  dto?: PayloadDto;
}

/** What `@OnMessage` stores on a method. */
export interface OnMessageMetadata extends OnMessageOptions {
  /** App-facing channel or pattern. */
  channel: string;
}

/**
 * Marks a provider method as a pub/sub handler: `(payload, envelope) => unknown`. Only stores metadata;
 * MessagingModule finds the method at bootstrap and subscribes.
 * @param channel app-facing channel (`order.confirmed`) or pattern with `{ pattern: true }` (`order.*`)
 */
export function OnMessage(channel: string, options: OnMessageOptions = {}): MethodDecorator {
  return (_target, _key, descriptor) => {
    const fn = descriptor.value as object;
    const list = (Reflect.getMetadata(ON_MESSAGE_METADATA, fn) as OnMessageMetadata[] | undefined) ?? [];
    Reflect.defineMetadata(ON_MESSAGE_METADATA, [...list, { channel, ...options }], fn);
    return descriptor;
  };
}
