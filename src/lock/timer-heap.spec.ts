import { TimerHeap, type TimerEntry } from './timer-heap';

const entry = (name: string): TimerEntry & { name: string } => ({ name, dueAt: 0, heapIndex: -1 });

/** Fake timers (Date.now included): the schedule is exact whatever the load of the machine. */
const sleep = (ms: number) => jest.advanceTimersByTimeAsync(ms);

describe('TimerHeap', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('wakes entries up in due order, each once, with one timer', async () => {
    const woken: string[] = [];
    const heap = new TimerHeap<ReturnType<typeof entry>>((e) => woken.push(e.name));
    const now = Date.now();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(entry);
    heap.schedule(c, now + 30);
    heap.schedule(a, now + 10);
    heap.schedule(d, now + 40);
    heap.schedule(b, now + 20);
    expect(heap.size).toBe(4);
    expect(jest.getTimerCount()).toBe(1);
    await sleep(25);
    expect(woken).toEqual(['a', 'b']);
    await sleep(25);
    expect(woken).toEqual(['a', 'b', 'c', 'd']);
    expect(heap.size).toBe(0);
    expect(a.heapIndex).toBe(-1);
  });

  it('cancels and moves entries (a moved entry is due once, at its new time)', async () => {
    const woken: string[] = [];
    const heap = new TimerHeap<ReturnType<typeof entry>>((e) => woken.push(e.name));
    const now = Date.now();
    const [a, b, c] = ['a', 'b', 'c'].map(entry);
    heap.schedule(a, now + 10);
    heap.schedule(b, now + 15);
    heap.schedule(c, now + 20);
    heap.cancel(a);
    heap.cancel(a); // twice: no effect
    heap.schedule(c, now + 5); // earlier than everything: re-arms
    heap.schedule(b, now + 60);
    expect(heap.has(a)).toBe(false);
    await sleep(35);
    expect(woken).toEqual(['c']);
    await sleep(50);
    expect(woken).toEqual(['c', 'b']);
  });

  it('keeps the heap order through many random schedules and cancels', () => {
    const heap = new TimerHeap<ReturnType<typeof entry>>(() => undefined);
    const entries = Array.from({ length: 500 }, (_, i) => entry(String(i)));
    const base = Date.now() + 60_000;
    for (const e of entries) heap.schedule(e, base + Math.floor(Math.random() * 10_000));
    for (const e of entries.filter((_, i) => i % 3 === 0)) heap.cancel(e);
    for (const e of entries.filter((_, i) => i % 5 === 0)) heap.schedule(e, base + Math.floor(Math.random() * 10_000));
    const inside = (heap as unknown as { heap: Array<ReturnType<typeof entry>> }).heap;
    inside.forEach((e, i) => {
      expect(e.heapIndex).toBe(i);
      if (i > 0) expect(inside[(i - 1) >> 1].dueAt).toBeLessThanOrEqual(e.dueAt);
    });
    const left = heap.clear();
    expect(left).toHaveLength(entries.filter((_, i) => i % 3 !== 0 || i % 5 === 0).length);
    expect(heap.size).toBe(0);
  });

  it('an entry scheduled again from its own wake-up waits for the next firing', async () => {
    let wakes = 0;
    const e = entry('again');
    const heap: TimerHeap<ReturnType<typeof entry>> = new TimerHeap((x) => {
      if (++wakes < 3) heap.schedule(x, Date.now());
    });
    heap.schedule(e, Date.now());
    await sleep(1);
    expect(wakes).toBe(1); // not woken again within the same firing
    await sleep(10);
    expect(wakes).toBe(3);
  });
});
