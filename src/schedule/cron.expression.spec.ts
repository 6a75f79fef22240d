import { CronExpression, checkTimeZone } from './cron.expression';

const at = (iso: string): number => new Date(iso).getTime();
const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The next `n` matches after `fromIso`, as ISO strings (UTC). */
function nextN(expression: string, fromIso: string, n: number, timeZone?: string): Array<string | undefined> {
  const cron = new CronExpression(expression, timeZone);
  const out: Array<string | undefined> = [];
  let t: number | undefined = at(fromIso);
  for (let i = 0; i < n && t !== undefined; i++) {
    t = cron.next(t);
    out.push(iso(t));
  }
  return out;
}

describe('CronExpression', () => {
  it('5 fields: every 15 minutes, strictly after the given instant', () => {
    expect(nextN('*/15 * * * *', '2026-03-01T10:00:00.000Z', 3)).toEqual([
      '2026-03-01T10:15:00.000Z',
      '2026-03-01T10:30:00.000Z',
      '2026-03-01T10:45:00.000Z',
    ]);
    expect(nextN('*/15 * * * *', '2026-03-01T10:14:59.999Z', 1)).toEqual(['2026-03-01T10:15:00.000Z']);
  });

  it('6 fields: seconds first', () => {
    expect(nextN('*/20 * * * * *', '2026-03-01T10:00:05.000Z', 3)).toEqual([
      '2026-03-01T10:00:20.000Z',
      '2026-03-01T10:00:40.000Z',
      '2026-03-01T10:01:00.000Z',
    ]);
  });

  it('lists, ranges, steps over a range, names', () => {
    expect(nextN('0 9-17/4 * JAN,mar MON-FRI', '2026-02-27T18:00:00Z', 4)).toEqual([
      '2026-03-02T09:00:00.000Z', // Monday 2 March
      '2026-03-02T13:00:00.000Z',
      '2026-03-02T17:00:00.000Z',
      '2026-03-03T09:00:00.000Z',
    ]);
  });

  it('day of week 7 is Sunday; both day fields restricted = either matches', () => {
    expect(nextN('0 0 * * 7', '2026-03-01T00:00:00Z', 1)).toEqual(['2026-03-08T00:00:00.000Z']);
    // The 13th or any Friday.
    expect(nextN('0 0 13 * FRI', '2026-03-01T00:00:00Z', 3)).toEqual([
      '2026-03-06T00:00:00.000Z',
      '2026-03-13T00:00:00.000Z',
      '2026-03-20T00:00:00.000Z',
    ]);
  });

  it('macros, month ends, leap days', () => {
    expect(nextN('@daily', '2026-03-01T12:00:00Z', 1)).toEqual(['2026-03-02T00:00:00.000Z']);
    expect(nextN('@hourly', '2026-03-01T12:00:00Z', 1)).toEqual(['2026-03-01T13:00:00.000Z']);
    expect(nextN('0 0 31 * *', '2026-04-01T00:00:00Z', 1)).toEqual(['2026-05-31T00:00:00.000Z']);
    expect(nextN('0 0 29 2 *', '2026-01-01T00:00:00Z', 1)).toEqual(['2028-02-29T00:00:00.000Z']);
  });

  it('reads the fields in a time zone', () => {
    // 09:00 in Paris is 08:00 UTC in winter, 07:00 UTC in summer.
    expect(nextN('0 9 * * *', '2026-01-10T12:00:00Z', 1, 'Europe/Paris')).toEqual(['2026-01-11T08:00:00.000Z']);
    expect(nextN('0 9 * * *', '2026-07-10T12:00:00Z', 1, 'Europe/Paris')).toEqual(['2026-07-11T07:00:00.000Z']);
    // Half-hour offset zone.
    expect(nextN('0 0 * * *', '2026-01-10T12:00:00Z', 1, 'Asia/Kolkata')).toEqual(['2026-01-10T18:30:00.000Z']);
  });

  it('DST gap: a wall time the clocks skip does not match that day', () => {
    // New York, 8 March 2026: 02:00 EST jumps to 03:00 EDT.
    expect(nextN('30 2 * * *', '2026-03-07T12:00:00Z', 2, 'America/New_York')).toEqual([
      '2026-03-09T06:30:00.000Z',
      '2026-03-10T06:30:00.000Z',
    ]);
    expect(nextN('0 3 * * *', '2026-03-07T12:00:00Z', 2, 'America/New_York')).toEqual([
      '2026-03-08T07:00:00.000Z', // 03:00 EDT
      '2026-03-09T07:00:00.000Z',
    ]);
  });

  it('DST repeated hour: a fixed wall time matches once, an every-hour field keeps matching', () => {
    // New York, 1 November 2026: 02:00 EDT goes back to 01:00 EST.
    expect(nextN('30 1 * * *', '2026-10-31T12:00:00Z', 2, 'America/New_York')).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT, the first one
      '2026-11-02T06:30:00.000Z',
    ]);
    expect(nextN('30 * * * *', '2026-11-01T05:00:00Z', 3, 'America/New_York')).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T06:30:00.000Z', // 01:30 EST
      '2026-11-01T07:30:00.000Z', // 02:30 EST
    ]);
  });

  it('refuses what it cannot read, naming the field', () => {
    const bad: Array<[string, RegExp]> = [
      ['* * * *', /expected 5 or 6 fields/],
      ['60 * * * *', /minute: 60 is outside 0-59/],
      ['* 24 * * *', /hour: 24 is outside 0-23/],
      ['* * 0 * *', /day of month: 0 is outside 1-31/],
      ['* * * 13 *', /month: 13 is outside 1-12/],
      ['* * * * 8', /day of week: 8 is outside 0-7/],
      ['*/0 * * * *', /step "0" must be a positive integer/],
      ['5-1 * * * *', /goes backwards/],
      ['0 0 L * *', /"L", "W" and "#" are not supported/],
      ['0 0 * * 5#2', /"L", "W" and "#" are not supported/],
      ['x * * * *', /"x" is not a number/],
      ['@sometimes', /unknown macro/],
      ['0 0 30 2 *', /never matches/],
    ];
    for (const [expression, problem] of bad) expect(() => new CronExpression(expression)).toThrow(problem);
  });

  it('time zones are checked', () => {
    expect(checkTimeZone('Europe/Paris')).toBe('Europe/Paris');
    expect(() => checkTimeZone('Mars/Olympus')).toThrow(/unknown time zone "Mars\/Olympus"/);
    expect(() => new CronExpression('* * * * *', 'Nowhere/Else')).toThrow(/unknown time zone/);
  });
});
