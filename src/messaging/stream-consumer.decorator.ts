import { STREAM_CONSUMER_METADATA } from './messaging.constants';
import type { StreamConsumerSettings } from './messaging.options';
import type { PayloadDto } from './payload-validation';

/** Options of `@StreamConsumer`; the unset numbers come from the module's `consumerDefaults`. */
export interface StreamConsumerOptions extends Partial<StreamConsumerSettings> {
  /** App-facing stream name, e.g. `orders` (the key is `<prefix>msg:stream:{orders}`). */
  stream: string;
  /** Consumer group; every group gets each message once, consumers of one group share the work. */
  group: string;
  /** Validate the payload with this DTO; an invalid one goes to the DLQ at once (counted as `invalid`). */
  dto?: PayloadDto;
}

/**
 * Marks a provider method as a durable stream handler: `(payload, message) => Promise<unknown>`.
 * Resolving acks the message; throwing retries it with backoff up to `maxAttempts`, then dead-letters it.
 */
export function StreamConsumer(options: StreamConsumerOptions): MethodDecorator {
  return (_target, _key, descriptor) => {
    Reflect.defineMetadata(STREAM_CONSUMER_METADATA, options, descriptor.value as object);
    return descriptor;
  };
}
