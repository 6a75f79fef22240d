/** Injection token of the MessagingModule options. */
export const MESSAGING_MODULE_OPTIONS = 'nest-redis-kit:messaging:options';

/** Metadata key written by `@OnMessage` on a method. */
export const ON_MESSAGE_METADATA = 'nest-redis-kit:messaging:on-message';

/** Metadata key written by `@StreamConsumer` on a method. */
export const STREAM_CONSUMER_METADATA = 'nest-redis-kit:messaging:stream-consumer';

/** Feature part of every messaging key and channel: `<prefix>msg:`. */
export const MESSAGING_FEATURE = 'msg';
