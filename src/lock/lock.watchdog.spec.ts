import { RedisUnavailableError } from '../redis';
import { LockLostError } from './lock.errors';
import { LockWatchdog, type WatchedLock } from './lock.watchdog';

/** A lock whose lease and extension outcome the test controls. */
class FakeLock implements WatchedLock {
  readonly resources = ['r'];
  expiresAt: number;
  extensions = 0;
  /** What the next extensions do: extend, fail as unreachable, or find the lock gone. */
  mode: 'ok' | 'unreachable' | 'gone' = 'ok';
  constructor(private readonly ttlMs: number) {
    this.expiresAt = Date.now() + ttlMs;
  }
  get held(): boolean {
    return this.expiresAt > Date.now();
  }
  async extend(ttlMs: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (this.mode === 'unreachable') throw new RedisUnavailableError('nodes unreachable');
    if (this.mode === 'gone') throw new LockLostError(this.resources, 'it expired or was taken by another holder');
    this.extensions++;
    this.expiresAt = Date.now() + ttlMs;
  }
}

/** Fake timers (Date.now included): the schedule is exact whatever the load of the machine. */
const sleep = (ms: number) => jest.advanceTimersByTimeAsync(ms);

describe('LockWatchdog', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('extends a held lock about every ttl/3 until stopped, and never calls onLost after stop()', async () => {
    const watchdog = new LockWatchdog();
    const lock = new FakeLock(150);
    const onLost = jest.fn();
    const watch = watchdog.watch(lock, 150, true, onLost);
    await sleep(400);
    expect(lock.extensions).toBeGreaterThanOrEqual(7); // at 50 ms, then every ~50 ms (a third of 150)
    expect(lock.held).toBe(true);
    watchdog.stop(watch);
    const count = lock.extensions;
    await sleep(200);
    expect(lock.extensions).toBe(count);
    expect(onLost).not.toHaveBeenCalled();
    expect(watchdog.size).toBe(0);
  });

  it('one timer for every watched lock: many locks, each extended, none lost', async () => {
    const watchdog = new LockWatchdog();
    const locks = Array.from({ length: 200 }, (_, i) => new FakeLock(120 + i));
    const onLost = jest.fn();
    const watches = locks.map((l, i) => watchdog.watch(l, 120 + i, true, onLost));
    await sleep(300);
    expect(locks.every((l) => l.extensions >= 2 && l.held)).toBe(true);
    for (const w of watches) watchdog.stop(w);
    expect(onLost).not.toHaveBeenCalled();
  });

  it('a lock found gone at an extension is lost with that LockLostError', async () => {
    const watchdog = new LockWatchdog();
    const lock = new FakeLock(90);
    lock.mode = 'gone';
    const onLost = jest.fn();
    watchdog.watch(lock, 90, true, onLost);
    await sleep(40);
    expect(onLost).toHaveBeenCalledTimes(1);
    const err = onLost.mock.calls[0][0] as LockLostError;
    expect(err).toBeInstanceOf(LockLostError);
    expect(err.message).toMatch(/taken by another holder/);
    expect(watchdog.size).toBe(0);
  });

  it('survives a short outage (extensions retried while the lease runs), and loses the lock on a long one', async () => {
    const watchdog = new LockWatchdog();
    const lock = new FakeLock(300);
    const onLost = jest.fn();
    watchdog.watch(lock, 300, true, onLost);
    await sleep(120);
    lock.mode = 'unreachable';
    await sleep(100); // shorter than what is left of the lease
    lock.mode = 'ok';
    await sleep(250);
    expect(onLost).not.toHaveBeenCalled();
    expect(lock.held).toBe(true);
    lock.mode = 'unreachable';
    await sleep(450); // longer than the lease
    expect(onLost).toHaveBeenCalledTimes(1);
    expect((onLost.mock.calls[0][0] as Error).message).toMatch(/expired before it could be extended/);
  });

  it('without auto-extension it only notices the end of the lease', async () => {
    const watchdog = new LockWatchdog();
    const lock = new FakeLock(60);
    const onLost = jest.fn();
    watchdog.watch(lock, 60, false, onLost);
    await sleep(59);
    expect(onLost).not.toHaveBeenCalled();
    await sleep(2);
    expect((onLost.mock.calls[0][0] as Error).message).toMatch(/lease expired/);
    expect(lock.extensions).toBe(0);
  });

  it('lose() and loseAll() end watches once', async () => {
    const watchdog = new LockWatchdog();
    const onLost = jest.fn();
    const a = watchdog.watch(new FakeLock(10_000), 10_000, true, onLost);
    watchdog.watch(new FakeLock(10_000), 10_000, true, onLost);
    watchdog.lose(a, 'its lease expired while the work ran');
    watchdog.lose(a, 'again');
    expect(a.lost?.message).toMatch(/expired while the work ran/);
    watchdog.loseAll('the application is shutting down');
    expect(onLost).toHaveBeenCalledTimes(2);
    expect((onLost.mock.calls[1][0] as Error).message).toMatch(/shutting down/);
    expect(watchdog.size).toBe(0);
  });
});
