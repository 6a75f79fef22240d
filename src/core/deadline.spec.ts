import { settleWithin, sleep, withTimeout } from './deadline';
import { DeadlineSweeper } from './deadline-sweeper';
import { RedisTimeoutError, RedisUnavailableError } from '../redis/redis.errors';

/** Waits until `condition` holds (a loaded machine runs timers late; never a fixed pause that may be too short). */
async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('sleep', () => {
  it('resolves after the pause', async () => {
    const started = Date.now();
    await sleep(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('resolves at once when the signal aborts, and at once for an aborted signal', async () => {
    const controller = new AbortController();
    const pause = sleep(60_000, { signal: controller.signal });
    controller.abort();
    await expect(pause).resolves.toBeUndefined();
    await expect(sleep(60_000, { signal: controller.signal })).resolves.toBeUndefined();
  });
});

describe('withTimeout', () => {
  it('passes the value and the error of work that settles in time', async () => {
    await expect(withTimeout(Promise.resolve(7), 50, () => new Error('late'))).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('own')), 50, () => new Error('late'))).rejects.toThrow('own');
  });

  it('rejects with the given error when work is late, and ignores its late outcome', async () => {
    let rejectLate!: (err: Error) => void;
    const late = new Promise<number>((_, reject) => (rejectLate = reject));
    await expect(withTimeout(late, 20, () => new RedisTimeoutError(20))).rejects.toBeInstanceOf(RedisTimeoutError);
    rejectLate(new Error('after the deadline')); // no unhandled rejection
    await sleep(5);
  });
});

describe('settleWithin', () => {
  it('gives the value, or the fallback when late or failed; never rejects', async () => {
    await expect(settleWithin(Promise.resolve('v'), 50, 'f')).resolves.toBe('v');
    await expect(settleWithin(new Promise(() => undefined), 20, 'f')).resolves.toBe('f');
    await expect(settleWithin(Promise.reject(new Error('x')), 20, 'f')).resolves.toBe('f');
  });
});

describe('DeadlineSweeper', () => {
  const item = () => {
    const state = { isSettled: false, error: undefined as Error | undefined };
    return Object.assign(state, {
      reject(err: Error) {
        state.isSettled = true;
        state.error = err;
      },
    });
  };

  it('rejects what is still unsettled after its deadline with a RedisTimeoutError (a RedisUnavailableError)', async () => {
    const sweeper = new DeadlineSweeper(5);
    const late = item();
    const quick = item();
    sweeper.track(late, 20);
    sweeper.track(quick, 20);
    quick.isSettled = true;
    await until(() => late.error !== undefined && sweeper.size === 0);
    expect(late.error).toBeInstanceOf(RedisTimeoutError);
    expect(late.error).toBeInstanceOf(RedisUnavailableError);
    expect((late.error as RedisTimeoutError).timeoutMs).toBe(20);
    expect(quick.error).toBeUndefined();
    expect(sweeper.size).toBe(0);
  });

  it('keeps entries with later deadlines behind an earlier one, and stops its timer when empty', async () => {
    const sweeper = new DeadlineSweeper(5);
    const long = item();
    const short = item();
    sweeper.track(long, 200);
    sweeper.track(short, 10);
    await until(() => short.error !== undefined);
    expect(short.error).toBeInstanceOf(RedisTimeoutError);
    expect(long.error).toBeUndefined();
    long.isSettled = true;
    await until(() => (sweeper as unknown as { timer?: unknown }).timer === undefined);
    expect(sweeper.size).toBe(0);
  });

  it('tickets: settle() before the deadline wins; onLate runs once otherwise and settle() then says false', async () => {
    const sweeper = new DeadlineSweeper(5);
    const onTime = jest.fn();
    const ticket = sweeper.ticket(30, onTime);
    expect(ticket.settle()).toBe(true);
    const onLate = jest.fn();
    const late = sweeper.ticket(10, onLate);
    await until(() => onLate.mock.calls.length > 0);
    await sleep(40);
    expect(onTime).not.toHaveBeenCalled();
    expect(onLate).toHaveBeenCalledTimes(1);
    expect(onLate.mock.calls[0][0]).toBeInstanceOf(RedisTimeoutError);
    expect(late.settle()).toBe(false);
  });

  it('handles many entries (compaction) without losing deadlines', async () => {
    const sweeper = new DeadlineSweeper(2);
    const items = Array.from({ length: 5000 }, () => item());
    for (const [i, it] of items.entries()) {
      sweeper.track(it, i % 2 === 0 ? 5 : 10_000);
      if (i % 2 === 1) it.isSettled = true;
    }
    // size drops when a sweep gives up on an entry; its rejection follows after the I/O phase (setImmediate).
    await until(() => sweeper.size === 0 && items.every((it, i) => i % 2 === 1 || it.error !== undefined));
    expect(items.filter((it, i) => i % 2 === 0 && !(it.error instanceof RedisTimeoutError))).toHaveLength(0);
    expect(sweeper.size).toBe(0);
  });
});
