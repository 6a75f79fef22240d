/** How many session ids a memo remembers at most (oldest forgotten first). */
const REMEMBERED_SESSIONS = 10_000;

/** One remembered move: when it was made and the expiry it gave, both epoch ms. */
interface Move {
  atMs: number;
  expiresAtMs: number;
}

/**
 * What this process last did to a session's expiry (a key's PEXPIRE, an index entry's score): when, and to which
 * expiry, for the moves made within the last `windowMs` only (an older move holds nothing back) and for at most
 * 10 000 sessions, so that its memory follows the rate of active sessions, not how many sessions ever passed
 * through the process. Lets a sliding session's expiry be moved at most once per `windowMs` per session and process.
 */
export class SessionMovesMemo {
  /** Session id → its last move (insertion order = age). */
  private readonly moves = new Map<string, Move>();

  /** @param windowMs how long a move is remembered, in milliseconds */
  constructor(readonly windowMs: number) {}

  /** Number of sessions remembered. */
  get size(): number {
    return this.moves.size;
  }

  /**
   * The expiry (epoch ms) this process gave session `sid` within the last `windowMs`, or undefined.
   * @param nowMs the current time, epoch ms
   */
  recentExpiry(sid: string, nowMs: number): number | undefined {
    this.forgetOlderThan(nowMs - this.windowMs);
    return this.moves.get(sid)?.expiresAtMs;
  }

  /** Notes that session `sid` was given the expiry `expiresAtMs` at `nowMs` (both epoch ms). */
  note(sid: string, nowMs: number, expiresAtMs: number): void {
    this.moves.delete(sid);
    this.moves.set(sid, { atMs: nowMs, expiresAtMs });
    if (this.moves.size > REMEMBERED_SESSIONS) {
      const oldest = this.moves.keys().next().value;
      if (oldest !== undefined) this.moves.delete(oldest);
    }
  }

  /** Forgets session `sid` (it ended, or its last move failed). */
  forget(sid: string): void {
    this.moves.delete(sid);
  }

  /** Drops the moves made at or before `cutoffMs` (epoch ms), oldest first. */
  private forgetOlderThan(cutoffMs: number): void {
    for (const [sid, move] of this.moves) {
      if (move.atMs > cutoffMs) break;
      this.moves.delete(sid);
    }
  }
}
