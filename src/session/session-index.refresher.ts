import { Logger } from '@nestjs/common';
import type { SessionIndex } from './session.index';

/** How many session ids a refresher remembers at most (oldest forgotten first). */
const REMEMBERED_SESSIONS = 10_000;

/**
 * Moves a sliding session's entry in its user's index along with the session, at most once per `refreshMs` per
 * session and process, in the background (a request never waits for it, and a failure is only logged: the index is
 * informative, the session key's own TTL is the truth, see {@link SessionIndex.list}). Remembers only the sessions
 * it moved within the last `refreshMs` (an older move holds nothing back), and at most 10 000 of them, so its memory
 * follows the rate of active sessions, not how many sessions ever passed through the process.
 */
export class SessionIndexRefresher {
  private readonly logger = new Logger('SessionStore');
  /** Session id → when this process last moved its entry (insertion order = age). */
  private readonly movedAt = new Map<string, number>();

  /** @param refreshMs shortest interval between two moves of one session's entry, in milliseconds */
  constructor(
    private readonly index: SessionIndex,
    readonly refreshMs: number,
  ) {}

  /** Number of sessions remembered (moved within the last `refreshMs`, at most 10 000). */
  get size(): number {
    return this.movedAt.size;
  }

  /** Moves the entry of session `sid` of `userId` to expire `ttlMs` from now, unless it was moved recently. */
  refresh(userId: string, sid: string, ttlMs: number): void {
    const now = Date.now();
    this.forgetOlderThan(now - this.refreshMs);
    const last = this.movedAt.get(sid);
    if (last !== undefined && now - last < this.refreshMs) return;
    this.movedAt.delete(sid);
    this.movedAt.set(sid, now);
    if (this.movedAt.size > REMEMBERED_SESSIONS) {
      const oldest = this.movedAt.keys().next().value;
      if (oldest !== undefined) this.movedAt.delete(oldest);
    }
    this.index.touch(userId, sid, now + ttlMs).catch((err: unknown) => {
      this.movedAt.delete(sid);
      this.logger.debug(`Index touch failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  /** Forgets session `sid` (it ended: logout, revocation). */
  forget(sid: string): void {
    this.movedAt.delete(sid);
  }

  /** Drops the moves made at or before `cutoffMs` (epoch ms), oldest first: they no longer hold a move back. */
  private forgetOlderThan(cutoffMs: number): void {
    for (const [sid, at] of this.movedAt) {
      if (at > cutoffMs) break;
      this.movedAt.delete(sid);
    }
  }
}
