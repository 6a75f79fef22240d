import { Logger } from '@nestjs/common';
import { OutageBreaker } from './outage-breaker';
import type { LuaArg, LuaScript } from './lua-script';
import { batchWritesWhileBusy } from './tick-writes';
import { RedisUnavailableError, toRedisUnavailable } from '../redis/redis.errors';
import type { RedisClient } from '../redis/redis.options';
import { parseDecisionReply, type DecisionReply } from './rate-decision';

/** Options of a {@link DecisionRunner}. */
export interface DecisionRunnerOptions {
  /** Longest wait for a decision, in milliseconds, on the shared deadline sweeper. */
  timeoutMs: number;
  /** Who is affected, for the two log lines of an outage (e.g. `the rate limiter`). */
  subject: string;
  /** What happens during an outage, for its first log line. */
  fallback: string;
  /** Logger context. */
  loggerName: string;
}

/**
 * Runs the rate-decision scripts (for the rate limits, the @nestjs/throttler storage and the login throttle): one EVALSHA per
 * decision, bounded by the shared deadline sweeper (no timer per call), written together with the other commands of
 * the same tick, and an {@link OutageBreaker} that fails at once while the client is disconnected. It never throws
 * for Redis being unavailable: it answers the error, and the caller applies its fail mode.
 */
export class DecisionRunner {
  /** Outage state: one log line when Redis starts failing and one when it is back. */
  readonly breaker: OutageBreaker;
  /**
   * @param client the client the decisions run on (asked per decision: it may be replaced on reconnect)
   * @param options see {@link DecisionRunnerOptions}
   */
  constructor(
    readonly client: () => RedisClient,
    private readonly options: DecisionRunnerOptions,
  ) {
    this.breaker = new OutageBreaker({
      subject: options.subject,
      fallback: options.fallback,
      // Every decision asks Redis while it is connected: limits apply again at once after an outage.
      probeIntervalMs: 0,
      logger: new Logger(options.loggerName),
    });
  }

  /** Longest wait for a decision, in milliseconds. */
  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  /**
   * The script's reply, or the `RedisUnavailableError` that kept Redis from deciding (not connected, an error, no
   * answer within `timeoutMs`: a `RedisTimeoutError`). While other decisions are in flight (concurrent callers), the
   * command leaves with the other writes of this tick (one `writev`); alone, it is written at once
   * ({@link batchWritesWhileBusy}).
   * @throws what is not Redis being unavailable (a script error)
   */
  run(
    script: LuaScript,
    keys: readonly string[],
    args: readonly LuaArg[],
  ): Promise<DecisionReply | RedisUnavailableError> {
    const client = this.client();
    // Not connected: decide at once rather than queue a call that would be counted late, after reconnecting.
    if (!this.breaker.allow(client)) {
      return Promise.resolve(new RedisUnavailableError(`Redis client is ${client.status}`));
    }
    batchWritesWhileBusy(client);
    return script.runThen<string, DecisionReply | RedisUnavailableError>(
      client,
      keys,
      args,
      this.options.timeoutMs,
      this.answered,
      this.failed,
    );
  }

  private readonly answered = (reply: string): DecisionReply => {
    this.breaker.success();
    return parseDecisionReply(reply);
  };

  private readonly failed = (err: unknown): RedisUnavailableError => {
    const unavailable = toRedisUnavailable(err, 'Could not decide a rate limit');
    if (!(unavailable instanceof RedisUnavailableError)) throw err;
    this.breaker.failure(unavailable);
    return unavailable;
  };
}
