/** Something a {@link TimerHeap} wakes up at a due time. */
export interface TimerEntry {
  /** When it is due, epoch milliseconds (set by the heap). */
  dueAt: number;
  /** Its position in the heap, -1 while not scheduled (maintained by the heap). */
  heapIndex: number;
}

/** Longest delay Node accepts for one timer, in milliseconds; later entries are looked at again then. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * One timer for many due times: a binary min-heap of entries by due time, and one `setTimeout` armed for the
 * earliest. Scheduling and cancelling are O(log n) and touch the timer only when the earliest due time moves
 * earlier: a cancelled entry leaves the timer as it is, which then fires once for nothing and re-arms for the
 * earliest entry left (or stays off). So short-lived entries, scheduled and cancelled before they are due, cost no
 * timer call each. The timer is unref'd: it never keeps the process alive by itself.
 */
export class TimerHeap<E extends TimerEntry> {
  private readonly heap: E[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  /** @param onDue called for each entry once its due time has passed (the entry is no longer scheduled then) */
  constructor(private readonly onDue: (entry: E) => void) {}

  /** Entries scheduled. */
  get size(): number {
    return this.heap.length;
  }

  /** Whether `entry` is scheduled. */
  has(entry: E): boolean {
    return entry.heapIndex >= 0 && this.heap[entry.heapIndex] === entry;
  }

  /** Schedules `entry` at `dueAt` (epoch ms), or moves it there if it is already scheduled. */
  schedule(entry: E, dueAt: number): void {
    entry.dueAt = dueAt;
    if (this.has(entry)) {
      this.siftUp(entry.heapIndex);
      this.siftDown(entry.heapIndex);
    } else {
      entry.heapIndex = this.heap.length;
      this.heap.push(entry);
      this.siftUp(entry.heapIndex);
    }
    if (dueAt < this.timerAt) this.arm();
  }

  /** Unschedules `entry` (no effect when it is not scheduled). */
  cancel(entry: E): void {
    if (!this.has(entry)) return;
    const index = entry.heapIndex;
    const last = this.heap.pop() as E;
    entry.heapIndex = -1;
    if (last !== entry) {
      this.heap[index] = last;
      last.heapIndex = index;
      this.siftUp(index);
      this.siftDown(last.heapIndex);
    }
  }

  /** Unschedules every entry and returns them (in no particular order). */
  clear(): E[] {
    const all = this.heap.splice(0);
    for (const entry of all) entry.heapIndex = -1;
    this.disarm();
    return all;
  }

  private arm(): void {
    this.disarm();
    const first = this.heap[0];
    if (!first) return;
    this.timerAt = first.dueAt;
    const delay = Math.min(MAX_TIMER_DELAY_MS, Math.max(1, first.dueAt - Date.now()));
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    // Entries an onDue call schedules again at once (dueAt <= now) wait for the next firing: no busy loop.
    const due: E[] = [];
    while (this.heap.length > 0 && this.heap[0].dueAt <= now) {
      const entry = this.heap[0];
      this.cancel(entry);
      due.push(entry);
    }
    for (const entry of due) this.onDue(entry);
    if (this.timer === undefined) this.arm();
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    const entry = heap[index];
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (parent.dueAt <= entry.dueAt) break;
      heap[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    heap[index] = entry;
    entry.heapIndex = index;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const length = heap.length;
    const entry = heap[index];
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      if (child + 1 < length && heap[child + 1].dueAt < heap[child].dueAt) child++;
      if (heap[child].dueAt >= entry.dueAt) break;
      heap[index] = heap[child];
      heap[index].heapIndex = index;
      index = child;
    }
    heap[index] = entry;
    entry.heapIndex = index;
  }
}
