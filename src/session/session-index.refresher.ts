import { Logger } from '@nestjs/common';
import type { SessionIndex } from './session.index';
import { SessionMovesMemo } from './session-moves.memo';

/**
 * Moves a sliding session's entry in its user's index along with the session, at most once per `refreshMs` per
 * session and process, in the background (a request never waits for it, and a failure is only logged: the index is
 * informative, the session key's own TTL is the truth, see {@link SessionIndex.list}). Remembers only the sessions
 * it moved within the last `refreshMs`, and at most 10 000 of them ({@link SessionMovesMemo}).
 */
export class SessionIndexRefresher {
  private readonly logger = new Logger('SessionStore');
  private readonly moved: SessionMovesMemo;

  /** @param refreshMs shortest interval between two moves of one session's entry, in milliseconds */
  constructor(
    private readonly index: SessionIndex,
    readonly refreshMs: number,
  ) {
    this.moved = new SessionMovesMemo(refreshMs);
  }

  /** Number of sessions remembered (moved within the last `refreshMs`, at most 10 000). */
  get size(): number {
    return this.moved.size;
  }

  /** Moves the entry of session `sid` of `userId` to expire `ttlMs` from now, unless it was moved recently. */
  refresh(userId: string, sid: string, ttlMs: number): void {
    const now = Date.now();
    if (this.moved.recentExpiry(sid, now) !== undefined) return;
    this.moved.note(sid, now, now + ttlMs);
    this.index.touch(userId, sid, now + ttlMs).catch((err: unknown) => {
      this.moved.forget(sid);
      this.logger.debug(`Index touch failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  /** Forgets session `sid` (it ended: logout, revocation). */
  forget(sid: string): void {
    this.moved.forget(sid);
  }
}
