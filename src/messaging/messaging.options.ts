import { check } from '../core/option-checker';

/** Settings of one stream consumer loop; every number has its unit in the name. */
export interface StreamConsumerSettings {
  /** How many messages of one batch are handled at the same time (default 1). */
  concurrency: number;
  /** Attempts (first one included) before a failing message goes to `<stream>:dlq` (default 5). */
  maxAttempts: number;
  /** A message pending for longer than this on a consumer is reclaimed by another (XAUTOCLAIM), ms (default 30000). */
  claimIdleMs: number;
  /** How long one XREADGROUP waits for new messages, ms (default 2000). Also bounds the shutdown wait on Cluster. */
  blockMs: number;
  /** Messages read per XREADGROUP (COUNT, default 100). */
  batchSize: number;
  /** Pause before the first retry of a failed message, doubled each retry (capped at 5000), ms (default 100). */
  backoffMs: number;
  /** Where a new group starts reading: `0` = every message still in the stream (default), `$` = only new ones. */
  startId: '0' | '$';
}

/** Options of `MessagingModule.forRoot()` / `forRootAsync()`. */
export interface MessagingModuleOptions {
  /** RedisModule client to use (default `default`). Dedicated connections are duplicated from it. */
  clientName?: string;
  /** Approximate MAXLEN (`XADD ... MAXLEN ~ n`) applied by `StreamProducer.add` unless overridden (default 100000). 0 = no trimming. */
  streamMaxLen?: number;
  /** Approximate MAXLEN of each `<stream>:dlq` (default 10000). */
  deadLetterMaxLen?: number;
  /** Name of this process's consumers in their groups (default `<hostname>-<pid>-<random>`). Must be unique per process. */
  consumerName?: string;
  /** Defaults of every `@StreamConsumer` (each one may override them). */
  consumerDefaults?: Partial<StreamConsumerSettings>;
  /**
   * Pub/sub on a Redis Cluster: `sharded` (default) uses SSUBSCRIBE/SPUBLISH, so a message only travels
   * through the shard that owns its channel; pattern subscriptions are then refused at startup.
   * `classic` uses SUBSCRIBE/PSUBSCRIBE/PUBLISH (broadcast to every node; patterns work).
   */
  clusterPubSub?: 'sharded' | 'classic';
  /**
   * How often, at most, this process looks for delayed messages that other instances scheduled and that came due,
   * ms (default 100). Its own ones are moved by a timer set for their due time.
   */
  delayedPollMs?: number;
  /** Start no `@StreamConsumer` loops in this process (a pure producer, e.g. an API instance). Default false. */
  disableConsumers?: boolean;
  /**
   * Longest wait at shutdown for the handlers in flight, ms (default 10000). Past it the module stops waiting
   * (logged); unfinished messages stay pending and another consumer reclaims them after `claimIdleMs`.
   */
  shutdownTimeoutMs?: number;
}

/** Options after validation with every default filled in. */
export interface ResolvedMessagingOptions {
  /** See {@link MessagingModuleOptions.clientName}. */
  clientName: string;
  /** See {@link MessagingModuleOptions.streamMaxLen}. */
  streamMaxLen: number;
  /** See {@link MessagingModuleOptions.deadLetterMaxLen}. */
  deadLetterMaxLen: number;
  /** See {@link MessagingModuleOptions.consumerName}. */
  consumerName: string;
  /** See {@link MessagingModuleOptions.consumerDefaults}. */
  consumerDefaults: StreamConsumerSettings;
  /** See {@link MessagingModuleOptions.clusterPubSub}. */
  clusterPubSub: 'sharded' | 'classic';
  /** See {@link MessagingModuleOptions.delayedPollMs}. */
  delayedPollMs: number;
  /** See {@link MessagingModuleOptions.disableConsumers}. */
  disableConsumers: boolean;
  /** See {@link MessagingModuleOptions.shutdownTimeoutMs}. */
  shutdownTimeoutMs: number;
}

/** Defaults of every stream consumer. */
export const DEFAULT_CONSUMER_SETTINGS: StreamConsumerSettings = {
  concurrency: 1,
  maxAttempts: 5,
  claimIdleMs: 30_000,
  blockMs: 2_000,
  batchSize: 100,
  backoffMs: 100,
  startId: '0',
};

/**
 * Checks consumer settings (the module's `consumerDefaults` or one `@StreamConsumer`'s options); throws
 * {@link RedisConfigError} naming the option, e.g. `@StreamConsumer(Billing.handle).maxAttempts`.
 * @param path dotted path of the settings object
 */
export function validateConsumerSettings(path: string, s: Partial<StreamConsumerSettings>): void {
  check.positiveInt(`${path}.concurrency`, s.concurrency);
  check.positiveInt(`${path}.maxAttempts`, s.maxAttempts);
  check.durationMs(`${path}.claimIdleMs`, s.claimIdleMs, { min: 1 });
  check.durationMs(`${path}.blockMs`, s.blockMs, { min: 1 });
  check.positiveInt(`${path}.batchSize`, s.batchSize);
  check.durationMs(`${path}.backoffMs`, s.backoffMs);
  check.oneOf(`${path}.startId`, s.startId, ['0', '$'] as const);
}

/** `base` with every setting of `overrides` that is not `undefined` (an explicit `undefined` keeps the base value). */
export function withOverrides(
  base: StreamConsumerSettings,
  overrides: Partial<StreamConsumerSettings> = {},
): StreamConsumerSettings {
  const out = { ...base };
  for (const key of Object.keys(base) as Array<keyof StreamConsumerSettings>) {
    const value = overrides[key];
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** Validates the module options and fills in defaults; throws {@link RedisConfigError} at startup. */
export function resolveMessagingOptions(
  o: MessagingModuleOptions,
  defaultConsumerName: string,
): ResolvedMessagingOptions {
  if ((o as { transport?: unknown }).transport !== undefined) {
    check.fail('messaging.transport', 'has moved: RedisStreamsTransportModule.forRoot() of nest-redis-kit/transport');
  }
  check.object('messaging.consumerDefaults', o.consumerDefaults);
  validateConsumerSettings('messaging.consumerDefaults', o.consumerDefaults ?? {});
  const consumerDefaults = withOverrides(DEFAULT_CONSUMER_SETTINGS, o.consumerDefaults);
  return {
    clientName: check.string('messaging.clientName', o.clientName) ?? 'default',
    streamMaxLen: check.nonNegativeInt('messaging.streamMaxLen', o.streamMaxLen) ?? 100_000,
    deadLetterMaxLen: check.nonNegativeInt('messaging.deadLetterMaxLen', o.deadLetterMaxLen) ?? 10_000,
    consumerName: check.keyPart('messaging.consumerName', o.consumerName) ?? defaultConsumerName,
    consumerDefaults,
    clusterPubSub:
      check.oneOf('messaging.clusterPubSub', o.clusterPubSub, ['sharded', 'classic'] as const) ?? 'sharded',
    delayedPollMs: check.durationMs('messaging.delayedPollMs', o.delayedPollMs, { min: 1 }) ?? 100,
    disableConsumers: check.boolean('messaging.disableConsumers', o.disableConsumers) ?? false,
    shutdownTimeoutMs: check.durationMs('messaging.shutdownTimeoutMs', o.shutdownTimeoutMs) ?? 10_000,
  };
}
