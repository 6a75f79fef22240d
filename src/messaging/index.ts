export { MessagingModule } from './messaging.module';
export {
  EventBus,
  LISTEN_BUFFER_LIMIT,
  type ListenOptions,
  type MessageHandler,
  type ObserveOptions,
  type PublishOptions,
  type SubscribeOptions,
} from './event-bus.service';
export {
  StreamProducer,
  type StreamAddOptions,
  type StreamAddResult,
  type StreamGroupInfo,
  type StreamInfo,
  type DeadLetter,
} from './stream-producer.service';
export { IdempotencyGuard, type ProcessOnceResult } from './idempotency.guard';
export { MessagingStats, type MessagingCounters } from './messaging.stats';
export { ReplicationTimeoutError, type ReplicatedDurability } from './stream-durability';
export { StreamConsumerRegistry, type StreamConsumerDescription } from './stream-consumer.registry';
export { OnMessage, type OnMessageOptions, type OnMessageMetadata } from './on-message.decorator';
export { StreamConsumer, type StreamConsumerOptions } from './stream-consumer.decorator';
export { MessagePayload, MessageCtx } from './message-params.decorator';
export {
  MESSAGE_CONTEXT_TYPE,
  messageContextOf,
  type MessageContextType,
  type MessageContext,
  type PubSubMessageContext,
  type StreamMessageContext,
} from './message-context';
export { isMessageRejection, rejectionReason } from './message-rejection';
export type { StreamMessage, StreamHandler } from './stream-delivery';
export {
  createEnvelope,
  encodeEnvelope,
  parseEnvelope,
  type MessageEnvelope,
  type MessageHeaders,
} from './message-envelope';
export { MessageValidationError, IdempotencyInProgressError } from './messaging.errors';
export type { MessagingModuleOptions, StreamConsumerSettings } from './messaging.options';
export { DEFAULT_CONSUMER_SETTINGS } from './messaging.options';
export type { MessagingModuleExtras } from './messaging.module-definition';
export { MESSAGING_MODULE_OPTIONS } from './messaging.constants';
export { streamKey, deadLetterKey, delayedKeys, type DelayedKeys } from './messaging.keys';
export { StreamDelayMover } from './stream-delay.mover';
export type { PayloadDto } from './payload-validation';
