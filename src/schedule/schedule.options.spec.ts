import { RedisConfigError } from '../redis';
import { resolveScheduleOptions, resolveScheduledOptions, type ScheduledOptions } from './schedule.options';

const NOW = Date.UTC(2026, 2, 1, 10, 0, 0);
const where = '@Scheduled(Jobs.run)';
const resolve = (o: Partial<ScheduledOptions>) => resolveScheduledOptions(o as ScheduledOptions, where, NOW);

/** The option path and message of the RedisConfigError `fn` throws. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof RedisConfigError) return err.message;
    throw err;
  }
  throw new Error('accepted');
}

describe('schedule options', () => {
  it('module defaults, and each bad value names its option', () => {
    expect(resolveScheduleOptions()).toEqual({
      clientName: 'default',
      enabled: true,
      runLeaseMs: 15_000,
      commandTimeoutMs: 1_000,
      waitPollMs: 100,
    });
    expect(refusal(() => resolveScheduleOptions({ runLeaseMs: 10 }))).toMatch(
      /"schedule.runLeaseMs": must be at least 300/,
    );
    expect(refusal(() => resolveScheduleOptions({ enabled: 'yes' as unknown as boolean }))).toMatch(
      /"schedule.enabled"/,
    );
  });

  it('everyMs: ticks on multiples of the period since the epoch, the same on every instance', () => {
    const job = resolve({ name: 'a', everyMs: 5_000 });
    expect(job).toMatchObject({ name: 'a', periodMs: 5_000, overlap: 'skip', missed: 'skip' });
    expect(job.trigger.next(NOW)).toBe(NOW + 5_000);
    expect(job.trigger.next(NOW + 1)).toBe(NOW + 5_000);
    expect(job.trigger.next(NOW - 1)).toBe(NOW);
    expect(job.trigger.description).toBe('every 5000 ms');
  });

  it('cron: period measured between the next two ticks; time zone applied', () => {
    const job = resolve({
      name: 'b',
      cron: '0 9 * * *',
      timeZone: 'Europe/Paris',
      overlap: 'wait',
      missed: 'run-once',
    });
    expect(job).toMatchObject({ periodMs: 86_400_000, overlap: 'wait', missed: 'run-once' });
    expect(job.trigger.next(NOW)).toBe(Date.UTC(2026, 2, 2, 8, 0, 0));
    expect(job.trigger.description).toBe('cron "0 9 * * *" (Europe/Paris)');
  });

  it('refuses, naming the option path', () => {
    const cases: Array<[Partial<ScheduledOptions>, RegExp]> = [
      [{ everyMs: 1000 }, /"@Scheduled\(Jobs.run\).name": is required/],
      [{ name: 'a b', everyMs: 1000 }, /\.name": must not contain whitespace or braces/],
      [{ name: '{a}', everyMs: 1000 }, /\.name": must not contain whitespace or braces/],
      [{ name: 'a' }, /"@Scheduled\(Jobs.run\)": give exactly one of `cron` and `everyMs`/],
      [{ name: 'a', everyMs: 1000, cron: '* * * * *' }, /give exactly one/],
      [{ name: 'a', everyMs: 999 }, /\.everyMs": must be at least 1000/],
      [{ name: 'a', everyMs: 1000, timeZone: 'UTC' }, /\.timeZone": applies to `cron` only/],
      [{ name: 'a', cron: '61 * * * *' }, /\.cron": minute: 61 is outside 0-59/],
      [{ name: 'a', cron: '* * * * *', timeZone: 'Mars/Base' }, /\.timeZone": unknown time zone/],
      [{ name: 'a', everyMs: 1000, overlap: 'queue' as 'wait' }, /\.overlap": must be one of "skip", "wait"/],
      [{ name: 'a', everyMs: 1000, missed: 'all' as 'skip' }, /\.missed": must be one of "run-once", "skip"/],
    ];
    for (const [options, problem] of cases) expect(refusal(() => resolve(options))).toMatch(problem);
  });
});
