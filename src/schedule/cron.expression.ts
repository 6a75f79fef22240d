/**
 * A compact cron expression: 5 fields (`minute hour day-of-month month day-of-week`) or 6 (a leading `second`),
 * with `*`, `?` (as `*` in the day fields), lists `a,b`, ranges `a-b`, steps `*\/n` `a/n` `a-b/n`, month and day
 * names (`JAN`, `MON`), day-of-week 0 or 7 for Sunday, and the macros `@yearly` `@annually` `@monthly` `@weekly`
 * `@daily` `@midnight` `@hourly`. When both day fields are restricted a day matches either (classic cron).
 * `L`, `W` and `#` are refused. Times are read in an IANA time zone through `Intl` (no dependency).
 */

/** Bounds and names of one field. */
interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const SECOND: FieldSpec = { name: 'second', min: 0, max: 59 };
const MINUTE: FieldSpec = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: 'day of month', min: 1, max: 31 };
const MONTH: FieldSpec = {
  name: 'month',
  min: 1,
  max: 12,
  names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
};
const DAY_OF_WEEK: FieldSpec = {
  name: 'day of week',
  min: 0,
  max: 7,
  names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
};

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** How far ahead {@link CronExpression.next} looks before it gives up (covers 29 February), in milliseconds. */
const SEARCH_HORIZON_MS = 9 * 366 * 86_400_000;
const HOUR_MS = 3_600_000;

/** Wall-clock fields of an instant in a time zone. */
interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/**
 * Checks an IANA time zone name (`Europe/Paris`, `UTC`); returns its canonical form.
 * @throws Error when the runtime does not know the zone
 */
export function checkTimeZone(timeZone: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    throw new Error(`unknown time zone "${timeZone}" (an IANA name such as "Europe/Paris" or "UTC")`);
  }
}

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock of `epochMs` in `timeZone`. */
function wallOf(epochMs: number, timeZone: string): Wall {
  if (timeZone === 'UTC') {
    const d = new Date(epochMs);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      weekday: d.getUTCDay(),
    };
  }
  const w: Wall = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, weekday: 0 };
  for (const part of formatterOf(timeZone).formatToParts(epochMs)) {
    if (part.type === 'weekday') w.weekday = WEEKDAYS[part.value] ?? 0;
    else if (part.type in w) w[part.type as keyof Wall] = Number(part.value);
  }
  return w;
}

/** A wall clock written as if it were UTC (for calendar arithmetic). */
function wallAsUtc(w: Wall): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/** Offset of `timeZone` from UTC at `epochMs`, in milliseconds (wall clock minus UTC). */
function offsetMs(epochMs: number, timeZone: string): number {
  return wallAsUtc(wallOf(epochMs, timeZone)) - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

/**
 * The first instant after `afterMs` at which the wall clock shows `wall` (a wall-clock time written as if it were
 * UTC), or, when a DST gap swallows that time, the instant the clocks jump past it.
 */
function instantOfWall(wall: number, afterMs: number, timeZone: string): number {
  const first = wall - offsetMs(wall, timeZone);
  const second = wall - offsetMs(first, timeZone);
  const fits = [first, second].filter((t) => t > afterMs && wallAsUtc(wallOf(t, timeZone)) >= wall);
  return fits.length > 0 ? Math.min(...fits) : afterMs + HOUR_MS;
}

function parseNumber(text: string, spec: FieldSpec): number {
  const upper = text.toUpperCase();
  const named = spec.names?.indexOf(upper) ?? -1;
  if (named >= 0) return named + (spec === MONTH ? 1 : 0);
  if (!/^\d+$/.test(text)) throw new Error(`${spec.name}: "${text}" is not a number${spec.names ? ' or a name' : ''}`);
  const n = Number(text);
  if (n < spec.min || n > spec.max) throw new Error(`${spec.name}: ${n} is outside ${spec.min}-${spec.max}`);
  return n;
}

/** The values a field allows, and whether it was written as a wildcard (`*` or `?`). */
interface ParsedField {
  values: Set<number>;
  wildcard: boolean;
}

function parseField(text: string, spec: FieldSpec, allowQuestion: boolean): ParsedField {
  if (/[LW#]/i.test(text.replace(/[A-Z]{3}/gi, (m) => (spec.names?.includes(m.toUpperCase()) ? '' : m)))) {
    throw new Error(`${spec.name}: "L", "W" and "#" are not supported (got "${text}")`);
  }
  const values = new Set<number>();
  const wildcard = text === '*' || (allowQuestion && text === '?');
  for (const item of text.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined || range === '') throw new Error(`${spec.name}: "${item}" is not a valid item`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1 || (stepText !== undefined && !/^\d+$/.test(stepText))) {
      throw new Error(`${spec.name}: step "${stepText}" must be a positive integer`);
    }
    let from: number;
    let to: number;
    if (range === '*' || (allowQuestion && range === '?')) {
      from = spec.min;
      to = spec === DAY_OF_WEEK ? 6 : spec.max;
    } else if (range.includes('-')) {
      const [a, b, more] = range.split('-');
      if (more !== undefined) throw new Error(`${spec.name}: "${range}" is not a valid range`);
      from = parseNumber(a, spec);
      to = parseNumber(b, spec);
      if (from > to) throw new Error(`${spec.name}: range "${range}" goes backwards`);
    } else {
      from = parseNumber(range, spec);
      to = stepText === undefined ? from : spec === DAY_OF_WEEK ? 6 : spec.max;
    }
    for (let v = from; v <= to; v += step) values.add(spec === DAY_OF_WEEK && v === 7 ? 0 : v);
  }
  return { values, wildcard };
}

/** Smallest value of `set` at or above `from`, if any. */
function nextIn(set: ReadonlySet<number>, from: number, max: number): number | undefined {
  for (let v = from; v <= max; v++) if (set.has(v)) return v;
  return undefined;
}

/**
 * A parsed cron expression in a time zone: {@link CronExpression.next} gives the next matching instant.
 *
 * Daylight saving time: a wall time that does not exist that day (the hour the clocks skip) does not match that
 * day; a wall time that happens twice (the hour the clocks go back) matches once, the first time, unless the hour
 * field is `*` (then every occurrence matches, so an every-minute job keeps running through the repeated hour).
 */
export class CronExpression {
  private readonly seconds: Set<number>;
  private readonly minutes: Set<number>;
  private readonly hours: Set<number>;
  private readonly daysOfMonth: ParsedField;
  private readonly months: Set<number>;
  private readonly daysOfWeek: ParsedField;
  private readonly everyHour: boolean;

  /**
   * @param expression 5 or 6 fields, or a macro (`@daily`)
   * @param timeZone IANA zone the fields are read in (default `UTC`)
   * @throws Error saying which field is wrong
   */
  constructor(
    readonly expression: string,
    readonly timeZone = 'UTC',
  ) {
    const text = expression.trim();
    const expanded = MACROS[text.toLowerCase()] ?? text;
    if (expanded.startsWith('@')) throw new Error(`unknown macro "${text}"`);
    const fields = expanded.split(/\s+/);
    if (fields.length !== 5 && fields.length !== 6) {
      throw new Error(`expected 5 or 6 fields (6 = with seconds first), got ${fields.length} in "${text}"`);
    }
    const [sec, min, hour, dom, month, dow] = fields.length === 6 ? fields : ['0', ...fields];
    this.seconds = parseField(sec, SECOND, false).values;
    this.minutes = parseField(min, MINUTE, false).values;
    const hours = parseField(hour, HOUR, false);
    this.hours = hours.values;
    this.everyHour = hours.values.size === 24;
    this.daysOfMonth = parseField(dom, DAY_OF_MONTH, true);
    this.months = parseField(month, MONTH, false).values;
    this.daysOfWeek = parseField(dow, DAY_OF_WEEK, true);
    this.timeZone = checkTimeZone(timeZone);
    if (this.next(Date.UTC(2000, 0, 1)) === undefined) {
      throw new Error(`"${text}" never matches (e.g. a day that month never has)`);
    }
  }

  /**
   * The first matching instant strictly after `afterMs` (epoch ms, whole seconds), or `undefined` when none comes
   * within nine years.
   */
  next(afterMs: number): number | undefined {
    const horizon = afterMs + SEARCH_HORIZON_MS;
    let t = Math.floor(afterMs / 1000) * 1000 + 1000;
    while (t <= horizon) {
      const w = wallOf(t, this.timeZone);
      if (!this.months.has(w.month)) {
        t = instantOfWall(Date.UTC(w.year, w.month, 1), t, this.timeZone);
      } else if (!this.dayMatches(w)) {
        t = instantOfWall(Date.UTC(w.year, w.month - 1, w.day + 1), t, this.timeZone);
      } else if (!this.hours.has(w.hour)) {
        const h = nextIn(this.hours, w.hour + 1, 23);
        const wall = Date.UTC(w.year, w.month - 1, h === undefined ? w.day + 1 : w.day, h ?? 0);
        t = instantOfWall(wall, t, this.timeZone);
      } else if (!this.minutes.has(w.minute)) {
        const m = nextIn(this.minutes, w.minute + 1, 59);
        t += ((m ?? 60) - w.minute) * 60_000 - w.second * 1000;
      } else if (!this.seconds.has(w.second)) {
        const s = nextIn(this.seconds, w.second + 1, 59);
        t += ((s ?? 60) - w.second) * 1000;
      } else if (this.repeatedWallTime(t, w)) {
        t += HOUR_MS - w.minute * 60_000 - w.second * 1000;
      } else {
        return t;
      }
    }
    return undefined;
  }

  /** Classic cron: with both day fields restricted a day matches either; otherwise both must match. */
  private dayMatches(w: Wall): boolean {
    const dom = this.daysOfMonth.values.has(w.day);
    const dow = this.daysOfWeek.values.has(w.weekday);
    if (!this.daysOfMonth.wildcard && !this.daysOfWeek.wildcard) return dom || dow;
    return dom && dow;
  }

  /** True for the second occurrence of a wall time in the hour the clocks go back (unless the hour field is `*`). */
  private repeatedWallTime(t: number, w: Wall): boolean {
    if (this.everyHour || this.timeZone === 'UTC') return false;
    const shiftMs = offsetMs(t - 3 * HOUR_MS, this.timeZone) - offsetMs(t, this.timeZone);
    if (shiftMs <= 0) return false;
    const earlier = wallOf(t - shiftMs, this.timeZone);
    return earlier.day === w.day && earlier.hour === w.hour && earlier.minute === w.minute;
  }
}
