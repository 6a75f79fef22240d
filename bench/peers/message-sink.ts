/**
 * End-to-end delivery for the messaging rows: a call sends a burst of messages, each carrying a sequence number,
 * and resolves once the handler has seen every one of them (or rejects when one is lost).
 */

/** The payload both sides send (same fields, same size). */
export interface BenchMessage {
  /** Sequence number, unique in the run. */
  seq: number;
  orderId: number;
  sku: string;
  qty: number;
}

/** Messages per call of a messaging row. */
export const BURST = 100;
/** Callers of a messaging row: BURST x CALLERS messages are in flight at most. */
export const BURST_CALLERS = 10;
/** A burst not fully handled within this time fails the row loudly (a lost message), ms. */
const BURST_TIMEOUT_MS = 30_000;

/** Handlers report here; senders wait here. */
export class MessageSink {
  private readonly waiting = new Map<number, () => void>();
  private seq = 0;

  /** Called by a handler for every message it got. */
  handled(message: Pick<BenchMessage, 'seq'>): void {
    const done = this.waiting.get(message.seq);
    if (done) {
      this.waiting.delete(message.seq);
      done();
    }
  }

  /**
   * One call of a messaging row: sends {@link BURST} messages with `send` and resolves when the handler has seen
   * them all.
   */
  async burst(send: (message: BenchMessage) => Promise<unknown>): Promise<void> {
    const arrivals: Array<Promise<void>> = [];
    const sends: Array<Promise<unknown>> = [];
    const seqs: number[] = [];
    for (let i = 0; i < BURST; i++) {
      const seq = ++this.seq;
      seqs.push(seq);
      arrivals.push(new Promise<void>((resolve) => this.waiting.set(seq, resolve)));
      sends.push(send({ seq, orderId: seq, sku: 'SKU-12345', qty: 3 }));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const lost = seqs.filter((s) => this.waiting.delete(s)).length;
        reject(new Error(`${lost} of ${BURST} messages not handled within ${BURST_TIMEOUT_MS} ms`));
      }, BURST_TIMEOUT_MS);
    });
    try {
      await Promise.race([Promise.all([...sends, ...arrivals]), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
