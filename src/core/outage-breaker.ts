/** Counters of one {@link OutageBreaker} since startup. */
export interface OutageStats {
  /** Calls that failed or timed out. */
  errors: number;
  /** Transitions from working to failing. */
  outages: number;
  /** Calls not sent to Redis because it was failing (the fail-open fast path). */
  skipped: number;
}

/** Where a breaker writes its two lines per outage (a Nest `Logger` fits). */
export interface OutageLogger {
  /** The outage began. */
  warn(message: string): void;
  /** The outage ended. */
  log(message: string): void;
}

/** Options of {@link OutageBreaker}. */
export interface OutageBreakerOptions {
  /** Who is affected, for the log lines, e.g. `the cache` or `Redis client "default" (redis://...)`. */
  subject: string;
  /** What happens while it lasts, e.g. `reads fall through to the source`. Omit for no such clause. */
  fallback?: string;
  /** While failing, one call in this many milliseconds goes to Redis as a probe; the others are skipped. */
  probeIntervalMs: number;
  /** Where the lines go. */
  logger: OutageLogger;
}

/** The part of an ioredis client a breaker looks at. */
interface ClientState {
  readonly status: string;
}

/**
 * Fail-open state of one feature (or one connection): whether Redis is failing, since when, when to probe it
 * again, and exactly one log line when an outage begins and one when it ends (with its duration), whatever the
 * number of failed calls in between. Cache, throttler, consumers and connection tracking each hold one.
 *
 * ```ts
 * if (!breaker.allow(client)) return fallback();          // skipped while failing (one probe per interval)
 * try { const v = await op(); breaker.success(); return v; }
 * catch (err) { breaker.failure(err); return fallback(); }
 * ```
 */
export class OutageBreaker {
  /** Counters since startup (the object is live; copy it for a snapshot). */
  readonly stats: OutageStats = { errors: 0, outages: 0, skipped: 0 };
  private since: number | undefined;
  private lastProbeAt = 0;
  /** The client was seen disconnected during this outage: its first call once connected again is a probe. */
  private sawDisconnect = false;

  constructor(private readonly options: OutageBreakerOptions) {}

  /** True between the first failure of an outage and the next success. */
  get failing(): boolean {
    return this.since !== undefined;
  }

  /** When the current outage began (epoch ms), if one is on. */
  get failingSince(): number | undefined {
    return this.since;
  }

  /**
   * Whether to send a call to Redis now. While `client` is not connected: no (and an outage begins). While
   * failing: one call per `probeIntervalMs`, and the first call after the client reconnected at once (so a
   * restarted Redis is used again without waiting for the interval). A refused call is counted as skipped.
   */
  allow(client?: ClientState): boolean {
    if (this.since === undefined && (client === undefined || client.status === 'ready')) return true;
    if (client !== undefined && client.status !== 'ready') {
      if (this.since === undefined) this.failure(new Error(`connection is ${client.status}`));
      this.sawDisconnect = true;
      this.stats.skipped++;
      return false;
    }
    const now = Date.now();
    if (this.sawDisconnect) {
      this.sawDisconnect = false;
      this.lastProbeAt = now;
      return true;
    }
    if (now - this.lastProbeAt < this.options.probeIntervalMs) {
      this.stats.skipped++;
      return false;
    }
    this.lastProbeAt = now;
    return true;
  }

  /** Records a failed call: counted; the first failure of an outage logs one warning. */
  failure(err: unknown): void {
    this.stats.errors++;
    if (this.since !== undefined) return;
    this.since = Date.now();
    this.lastProbeAt = this.since;
    this.stats.outages++;
    const reason = err instanceof Error ? err.message : String(err);
    const fallback = this.options.fallback ? `: ${this.options.fallback} until it recovers` : '';
    this.options.logger.warn(`Redis unavailable for ${this.options.subject} (${reason})${fallback}`);
  }

  /** Records a successful call: ends an outage, logging its duration once. Cheap when none is on. */
  success(): void {
    if (this.since === undefined) return;
    const lastedMs = Date.now() - this.since;
    this.since = undefined;
    this.sawDisconnect = false;
    this.options.logger.log(`Redis is back for ${this.options.subject} after ${lastedMs} ms`);
  }
}
