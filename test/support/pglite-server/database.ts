/**
 * One database of the embedded test server: a PGlite instance shared by any number of client connections.
 *
 * PGlite runs one PostgreSQL session, so the connections take turns. A turn is a whole batch of a connection's
 * messages up to a Sync or a simple Query (never single messages: the unnamed statement and portal of one client's
 * Parse/Bind/Execute must not be replaced by another's), and a connection whose batch leaves a transaction open
 * (ReadyForQuery `T`/`E`) or an extended query unfinished (no ReadyForQuery) keeps the session until it is idle
 * again. Other connections wait, in arrival order. That is stricter than PostgreSQL (which runs transactions
 * side by side) but never mixes two clients' statements.
 */
import { frontend, lastReadyStatus } from './wire';

/** What the server uses of a PGlite instance. */
export interface PGliteInstance {
  /** Runs raw protocol messages and returns the raw reply. */
  execProtocolRaw(message: Uint8Array): Promise<Uint8Array>;
  /** Shuts the instance down. */
  close(): Promise<void>;
}

/** Whoever takes turns on a database: a client connection (or the server itself while it drops the database). */
export type Turn = object;

export class EmbeddedDatabase {
  private owner: Turn | undefined;
  /** True while the owner's batch runs in PGlite. */
  private busy = false;
  private readonly waiting: Array<{ turn: Turn; go: () => void; cancel: (err: Error) => void }> = [];
  /** Connections that closed: they get no more turns, and what they left open is rolled back. */
  private readonly departed = new WeakSet<Turn>();
  private closed = false;
  private opened: Promise<PGliteInstance> | undefined;

  /**
   * @param name the database name clients give in their startup
   * @param open creates the PGlite instance, on first use
   */
  constructor(
    readonly name: string,
    private readonly open: () => Promise<PGliteInstance>,
  ) {}

  /** The PGlite instance, created on the first call. */
  instance(): Promise<PGliteInstance> {
    this.opened ??= this.open();
    return this.opened;
  }

  /**
   * Runs `messages` (complete frontend messages ending in Sync, Query or Flush) for `turn` and returns PGlite's
   * reply. Waits while another connection holds the session; keeps the session for `turn` while the reply leaves
   * a transaction or an extended query open.
   */
  async run(turn: Turn, messages: Buffer): Promise<Uint8Array> {
    const db = await this.instance();
    await this.acquire(turn);
    this.busy = true;
    let reply: Uint8Array;
    try {
      reply = await db.execProtocolRaw(messages);
    } catch (err) {
      this.busy = false;
      this.release(turn);
      throw err;
    }
    this.busy = false;
    if (this.departed.has(turn)) await this.cleanUp(turn);
    else if (lastReadyStatus(reply) === 'I') this.release(turn);
    return reply;
  }

  /**
   * The connection is gone: it stops waiting, and when it holds the session its open extended query is ended
   * (Sync) and its open transaction rolled back, as PostgreSQL does for a closed backend (at once, or when its
   * batch in progress is done).
   */
  async leave(turn: Turn): Promise<void> {
    this.departed.add(turn);
    const index = this.waiting.findIndex((w) => w.turn === turn);
    if (index >= 0) this.waiting.splice(index, 1)[0].cancel(new Error('connection closed'));
    if (this.owner === turn && !this.busy) await this.cleanUp(turn);
  }

  /** Closes the instance once the current turn is over; later calls to run() fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    const turn: Turn = {};
    const db = this.opened ? await this.opened.catch(() => undefined) : undefined;
    await this.acquire(turn);
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.cancel(new Error(`database "${this.name}" was dropped`));
    await db?.close().catch(() => undefined);
  }

  private async cleanUp(turn: Turn): Promise<void> {
    try {
      const db = await this.instance();
      if (lastReadyStatus(await db.execProtocolRaw(frontend('S'))) !== 'I') {
        await db.execProtocolRaw(frontend('Q', 'ROLLBACK'));
      }
    } finally {
      this.release(turn);
    }
  }

  private acquire(turn: Turn): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`database "${this.name}" was dropped`));
    if (this.departed.has(turn)) return Promise.reject(new Error('connection closed'));
    if (this.owner === undefined || this.owner === turn) {
      this.owner = turn;
      return Promise.resolve();
    }
    return new Promise((go, cancel) => this.waiting.push({ turn, go: () => go(), cancel }));
  }

  private release(turn: Turn): void {
    if (this.owner !== turn) return;
    const next = this.waiting.shift();
    this.owner = next?.turn;
    next?.go();
  }
}
