/**
 * Work hours: when this worker may take jobs. Pure: a parser and the window maths, no clock, no config.
 *
 * The value is a list of ranges separated by commas, each `[DAYS ]HH:MM-HH:MM` in local time:
 *   "22:00-07:00"                              every night
 *   "Mon-Fri 18:00-08:00, Sat-Sun 00:00-24:00" weekday evenings and nights, whole weekends
 * DAYS is one weekday or a span of them (Mon-Fri, Fri-Mon wraps round), English names or their first three letters;
 * no DAYS means every day. An empty value means always.
 *
 * Invariants:
 * - A range is wall-clock time: "22:00-07:00" starts when the local clock shows 22:00 and ends when it shows 07:00,
 *   whatever the UTC offset did in between (so a night across a DST change is an hour shorter or longer).
 * - A range that crosses midnight belongs to the weekday it starts on: "Fri 22:00-07:00" includes Saturday 03:00,
 *   not Friday 03:00.
 * - Starts are inclusive, ends exclusive; 24:00 is allowed as an end only; a range cannot be empty (start = end).
 * - A start that falls in a spring-forward gap (02:30 on a day the clock jumps from 02:00 to 03:00) happens when the
 *   clock jumps past it; a time that occurs twice (the fall-back hour) is inside or outside both times.
 */

export class WorkHoursError extends Error {
  override name = 'WorkHoursError';
}

/** 0 = Sunday ... 6 = Saturday, as Date.getDay() numbers them. */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export interface WorkRange {
  /** The weekdays a range may start on. */
  days: ReadonlySet<Weekday>;
  /** Minutes after local midnight, 0-1439. */
  start: number;
  /** Minutes after local midnight, 1-1440; at or before `start` means the range ends the next day. */
  end: number;
  /** The range as written, for messages. */
  text: string;
}

export interface WorkHours {
  /** The value as configured, trimmed. */
  text: string;
  /** Empty: always within. */
  ranges: readonly WorkRange[];
}

const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const DAY_SHORT = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const ALL_DAYS: ReadonlySet<Weekday> = new Set<Weekday>([0, 1, 2, 3, 4, 5, 6]);
const RANGE_RE = /^(?:(\p{L}+)(?:\s*-\s*(\p{L}+))?\s+)?(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$/u;

function parseDay(word: string, range: string): Weekday {
  const w = word.toLowerCase();
  const i = DAY_NAMES.findIndex((name) => name === w || (w.length === 3 && name.startsWith(w)));
  if (i < 0)
    throw new WorkHoursError(
      `"${range}": "${word}" is not a weekday (use ${DAY_SHORT.join(', ')} or their full names)`,
    );
  return i as Weekday;
}

function parseTime(hhmm: string, range: string, isEnd: boolean): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  if (m > 59 || h > 24 || (h === 24 && m !== 0))
    throw new WorkHoursError(`"${range}": ${hhmm} is not a time of day (00:00 to 23:59, or 24:00 as an end)`);
  if (h === 24 && !isEnd) throw new WorkHoursError(`"${range}": 24:00 can only end a range (start at 00:00)`);
  return h * 60 + m;
}

function daySpan(from: Weekday, to: Weekday): Set<Weekday> {
  const days = new Set<Weekday>();
  for (let d = from; ; d = ((d + 1) % 7) as Weekday) {
    days.add(d);
    if (d === to) return days;
  }
}

/** Parses a work_hours value; throws WorkHoursError saying which range is wrong and how. */
export function parseWorkHours(value: string): WorkHours {
  const text = value.trim();
  if (text === '') return { text, ranges: [] };
  const ranges = text.split(',').map((raw): WorkRange => {
    const part = raw.trim();
    if (part === '')
      throw new WorkHoursError('an empty range between two commas (expected e.g. "Mon-Fri 18:00-08:00, 22:00-07:00")');
    const m = RANGE_RE.exec(part);
    if (!m)
      throw new WorkHoursError(
        `"${part}" is not a range: expected "HH:MM-HH:MM" with optional weekdays before it, e.g. "Mon-Fri 18:00-08:00"`,
      );
    const [, fromDay, toDay, startText, endText] = m;
    const from = fromDay === undefined ? undefined : parseDay(fromDay, part);
    const days = from === undefined ? ALL_DAYS : daySpan(from, toDay === undefined ? from : parseDay(toDay, part));
    const start = parseTime(startText!, part, false);
    const end = parseTime(endText!, part, true);
    if (start === end)
      throw new WorkHoursError(`"${part}": the range is empty (start = end); for a whole day write 00:00-24:00`);
    return { days, start, end, text: part };
  });
  return { text, ranges };
}

/** The wall clock of an instant in a time zone (undefined: the process's, which follows TZ). */
export interface WallClock {
  weekday: Weekday;
  /** Minutes after local midnight, with the seconds as a fraction. */
  minutes: number;
  /** The wall-clock time as if it were UTC, in ms: its difference to the instant is the UTC offset. */
  wallMs: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let f = formatters.get(key);
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
    });
    formatters.set(key, f);
  }
  return f;
}

export function wallClock(atMs: number, timeZone?: string): WallClock {
  const p: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(atMs))
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  const ms = ((atMs % 1000) + 1000) % 1000;
  const wallMs = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) + ms;
  const weekday = new Date(wallMs).getUTCDay() as Weekday;
  return { weekday, minutes: p.hour! * 60 + p.minute! + (p.second! * 1000 + ms) / 60_000, wallMs };
}

function rangeHolds(r: WorkRange, c: WallClock): boolean {
  if (r.start < r.end) return r.days.has(c.weekday) && c.minutes >= r.start && c.minutes < r.end;
  // Crosses midnight: the evening part on a day it starts on, the morning part on the day after one.
  const yesterday = ((c.weekday + 6) % 7) as Weekday;
  return (r.days.has(c.weekday) && c.minutes >= r.start) || (r.days.has(yesterday) && c.minutes < r.end);
}

/** Whether the instant is inside the work hours (always, for an empty value). */
export function isWithin(hours: WorkHours, at: Date | number, timeZone?: string): boolean {
  if (hours.ranges.length === 0) return true;
  const c = wallClock(+at, timeZone);
  return hours.ranges.some((r) => rangeHolds(r, c));
}

/** How far ahead nextChange looks: a weekly schedule changes within a week, or never. */
const HORIZON_MS = 8 * 86_400_000;

function offsetAt(atMs: number, timeZone: string | undefined): number {
  return wallClock(atMs, timeZone).wallMs - atMs;
}

/** The first instant in (lo, hi] whose UTC offset is not `offset` (one exists: the offset at hi differs). */
function offsetChange(lo: number, hi: number, offset: number, timeZone: string | undefined): number {
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid, timeZone) === offset) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The next instant after `at` where isWithin changes, or undefined when it never does (an empty value, or ranges
 * that cover the whole week). Walks from one candidate to the next: the next range boundary on the wall clock, or
 * a UTC offset change (DST) before it, where a boundary may have been jumped over.
 */
export function nextChange(hours: WorkHours, at: Date | number, timeZone?: string): Date | undefined {
  if (hours.ranges.length === 0) return undefined;
  const from = +at;
  const inside = isWithin(hours, from, timeZone);
  const marks = [...new Set(hours.ranges.flatMap((r) => [r.start, r.end % 1440])), 1440].sort((a, b) => a - b);
  let t = from;
  while (t - from <= HORIZON_MS) {
    const c = wallClock(t, timeZone);
    const offset = c.wallMs - t;
    const next = marks.find((m) => m > c.minutes)!; // 1440 is always after
    let candidate = t + Math.round((next - c.minutes) * 60_000);
    if (offsetAt(candidate, timeZone) !== offset) candidate = offsetChange(t, candidate, offset, timeZone);
    t = candidate;
    if (isWithin(hours, t, timeZone) !== inside) return new Date(t);
  }
  return undefined;
}

/** "22:00", or "Sat 22:00" when the change is not within the next 24 hours: for /status and the logs. */
export function describeChange(change: Date, now: Date | number, timeZone?: string): string {
  const c = wallClock(+change, timeZone);
  const hh = String(Math.floor(c.minutes / 60)).padStart(2, '0');
  const mm = String(Math.floor(c.minutes % 60)).padStart(2, '0');
  return +change - +now < 86_400_000 ? `${hh}:${mm}` : `${DAY_SHORT[c.weekday]} ${hh}:${mm}`;
}
