import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  WorkHoursError,
  describeChange,
  isWithin,
  nextChange,
  parseWorkHours,
  wallClock,
} from '../../../src/worker/work-hours.js';

const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';

/** An instant from a UTC ISO string. */
const utc = (iso: string) => new Date(`${iso}Z`);

describe('parseWorkHours', () => {
  it('reads ranges, weekdays and spans (wrapping round the week), case-insensitively', () => {
    const h = parseWorkHours(' Mon-Fri 18:00-08:00, sat-SUN 00:00-24:00 ,22:00-7:00, friday-mon 9:30-10:00 ');
    expect(h.text).toBe('Mon-Fri 18:00-08:00, sat-SUN 00:00-24:00 ,22:00-7:00, friday-mon 9:30-10:00');
    expect(h.ranges.map((r) => [[...r.days].sort(), r.start, r.end])).toEqual([
      [[1, 2, 3, 4, 5], 18 * 60, 8 * 60],
      [[0, 6], 0, 1440],
      [[0, 1, 2, 3, 4, 5, 6], 22 * 60, 7 * 60],
      [[0, 1, 5, 6], 9 * 60 + 30, 10 * 60],
    ]);
    expect(parseWorkHours('').ranges).toEqual([]);
    expect(parseWorkHours('  ').ranges).toEqual([]);
  });

  it.each([
    ['22:00', '"22:00" is not a range: expected "HH:MM-HH:MM"'],
    ['Mon-Fry 18:00-08:00', '"Mon-Fry 18:00-08:00": "Fry" is not a weekday (use Sun, Mon, Tue'],
    ['Mo 18:00-08:00', '"Mo" is not a weekday'],
    ['18:60-20:00', '18:60 is not a time of day'],
    ['25:00-26:00', '25:00 is not a time of day'],
    ['24:00-08:00', '24:00 can only end a range'],
    ['08:00-08:00', 'the range is empty (start = end); for a whole day write 00:00-24:00'],
    ['22:00-07:00,,', 'an empty range between two commas'],
    ['22:00-07:00 Mon', '"22:00-07:00 Mon" is not a range'],
  ])('refuses %j, saying why', (value, message) => {
    expect(() => parseWorkHours(value)).toThrow(WorkHoursError);
    expect(() => parseWorkHours(value)).toThrow(message);
  });
});

describe('isWithin', () => {
  it('an empty value is always within', () => {
    expect(isWithin(parseWorkHours(''), utc('2026-03-29T01:30:00'), BERLIN)).toBe(true);
    expect(nextChange(parseWorkHours(''), utc('2026-03-29T01:30:00'), BERLIN)).toBeUndefined();
  });

  it('a night range: start inclusive, end exclusive, both sides of midnight', () => {
    const h = parseWorkHours('22:00-07:00');
    // 2026-01-14 is a Wednesday; Berlin is UTC+1 in winter.
    expect(isWithin(h, utc('2026-01-14T20:59:59'), BERLIN)).toBe(false);
    expect(isWithin(h, utc('2026-01-14T21:00:00'), BERLIN)).toBe(true);
    expect(isWithin(h, utc('2026-01-15T05:59:59'), BERLIN)).toBe(true);
    expect(isWithin(h, utc('2026-01-15T06:00:00'), BERLIN)).toBe(false);
    expect(isWithin(h, utc('2026-01-15T12:00:00'), BERLIN)).toBe(false);
  });

  it('a range that crosses midnight belongs to the weekday it starts on', () => {
    const h = parseWorkHours('Fri 22:00-07:00');
    // 2026-01-16 is a Friday.
    expect(isWithin(h, utc('2026-01-16T02:00:00'), BERLIN)).toBe(false); // Friday 03:00: Thursday's night
    expect(isWithin(h, utc('2026-01-16T22:00:00'), BERLIN)).toBe(true); // Friday 23:00
    expect(isWithin(h, utc('2026-01-17T02:00:00'), BERLIN)).toBe(true); // Saturday 03:00: Friday's night
    expect(isWithin(h, utc('2026-01-17T22:00:00'), BERLIN)).toBe(false); // Saturday 23:00
  });

  it('weekday evenings plus whole weekends', () => {
    const h = parseWorkHours('Mon-Fri 18:00-08:00, Sat-Sun 00:00-24:00');
    expect(isWithin(h, utc('2026-01-19T06:00:00'), BERLIN)).toBe(false); // Monday 07:00: Sunday is 00:00-24:00
    expect(isWithin(h, utc('2026-01-19T12:00:00'), BERLIN)).toBe(false); // Monday 13:00
    expect(isWithin(h, utc('2026-01-19T17:30:00'), BERLIN)).toBe(true); // Monday 18:30
    expect(isWithin(h, utc('2026-01-17T12:00:00'), BERLIN)).toBe(true); // Saturday noon
  });

  it('follows the local time zone of the process (TZ) when none is given', () => {
    const code =
      "import('./src/worker/work-hours.ts').then((m) => process.stdout.write(JSON.stringify(" +
      "[m.isWithin(m.parseWorkHours('22:00-07:00'), Date.parse('2026-07-01T21:30:00Z')), " +
      "m.wallClock(Date.parse('2026-07-01T21:30:00Z')).minutes])))";
    const run = (tz: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', code], {
        env: { ...process.env, TZ: tz },
        encoding: 'utf8',
      });
    // One child (each costs a second or more of tsx start-up): its TZ is not this process's (UTC in CI).
    const la = run('America/Los_Angeles');
    expect(la.stderr).toBe('');
    expect(JSON.parse(la.stdout)).toEqual([false, 14 * 60 + 30]); // 14:30 PDT, not 21:30 UTC
  });
});

describe('DST: wall-clock time across offset changes', () => {
  it('Berlin spring forward (2026-03-29, 02:00 → 03:00): a night is an hour shorter', () => {
    const h = parseWorkHours('22:00-07:00');
    // Saturday 22:00 CET = 21:00Z; Sunday 07:00 CEST = 05:00Z.
    const start = utc('2026-03-28T21:00:00');
    expect(isWithin(h, start, BERLIN)).toBe(true);
    expect(nextChange(h, start, BERLIN)).toEqual(utc('2026-03-29T05:00:00'));
    expect(nextChange(h, utc('2026-03-29T05:00:00'), BERLIN)).toEqual(utc('2026-03-29T20:00:00')); // 22:00 CEST
  });

  it('Berlin spring forward: a start in the skipped hour begins when the clock jumps past it', () => {
    const h = parseWorkHours('02:30-04:00');
    const before = utc('2026-03-29T00:30:00'); // 01:30 CET
    expect(isWithin(h, before, BERLIN)).toBe(false);
    const opens = nextChange(h, before, BERLIN);
    expect(opens).toEqual(utc('2026-03-29T01:00:00')); // 03:00 CEST: 02:30 never happened
    expect(isWithin(h, opens!, BERLIN)).toBe(true);
    expect(nextChange(h, opens!, BERLIN)).toEqual(utc('2026-03-29T02:00:00')); // 04:00 CEST
  });

  it('Berlin fall back (2026-10-25, 03:00 → 02:00): the repeated hour is inside both times, the night an hour longer', () => {
    const h = parseWorkHours('01:00-02:30');
    const first = utc('2026-10-25T00:15:00'); // 02:15 CEST
    const second = utc('2026-10-25T01:15:00'); // 02:15 CET
    expect(isWithin(h, first, BERLIN)).toBe(true);
    expect(isWithin(h, second, BERLIN)).toBe(true);
    expect(isWithin(h, utc('2026-10-25T00:45:00'), BERLIN)).toBe(false); // 02:45 CEST
    // From 02:45 CEST the clock falls back to 02:00 at 01:00Z: inside again until 02:30 CET.
    expect(nextChange(h, utc('2026-10-25T00:45:00'), BERLIN)).toEqual(utc('2026-10-25T01:00:00'));
    expect(nextChange(h, utc('2026-10-25T01:00:00'), BERLIN)).toEqual(utc('2026-10-25T01:30:00'));
    const night = parseWorkHours('22:00-07:00');
    // Saturday 22:00 CEST = 20:00Z to Sunday 07:00 CET = 06:00Z: ten hours.
    expect(nextChange(night, utc('2026-10-24T20:00:00'), BERLIN)).toEqual(utc('2026-10-25T06:00:00'));
  });

  it('New York (2026-03-08 spring forward, 2026-11-01 fall back) and Lord Howe (half-hour DST)', () => {
    const h = parseWorkHours('Sat-Sun 00:00-24:00');
    // Sunday 2026-03-08 ends at midnight EDT = 04:00Z on Monday.
    expect(nextChange(h, utc('2026-03-08T12:00:00'), NEW_YORK)).toEqual(utc('2026-03-09T04:00:00'));
    // Sunday 2026-11-01 ends at midnight EST = 05:00Z.
    expect(nextChange(h, utc('2026-11-01T12:00:00'), NEW_YORK)).toEqual(utc('2026-11-02T05:00:00'));
    // Lord Howe falls back by 30 min at 02:00 on 2026-04-05 (UTC+11 → +10:30): 01:45 occurs twice.
    const lh = parseWorkHours('01:45-01:50');
    expect(isWithin(lh, utc('2026-04-04T14:46:00'), 'Australia/Lord_Howe')).toBe(true);
    expect(isWithin(lh, utc('2026-04-04T15:16:00'), 'Australia/Lord_Howe')).toBe(true);
  });
});

describe('nextChange', () => {
  it('finds the next boundary of the weekly schedule, days ahead if need be', () => {
    const h = parseWorkHours('Sat-Sun 00:00-24:00');
    const monday = utc('2026-01-19T09:00:00'); // Monday 10:00 Berlin
    expect(nextChange(h, monday, BERLIN)).toEqual(utc('2026-01-23T23:00:00')); // Saturday 00:00 CET
    expect(describeChange(utc('2026-01-23T23:00:00'), monday, BERLIN)).toBe('Sat 00:00');
    expect(describeChange(utc('2026-01-19T21:00:00'), monday, BERLIN)).toBe('22:00');
  });

  it('merges adjacent ranges and says never for a schedule that covers the whole week', () => {
    const h = parseWorkHours('00:00-12:00, 12:00-24:00');
    expect(isWithin(h, utc('2026-01-19T11:00:00'), BERLIN)).toBe(true);
    expect(nextChange(h, utc('2026-01-19T11:00:00'), BERLIN)).toBeUndefined();
    const touching = parseWorkHours('18:00-22:00, 22:00-07:00');
    expect(nextChange(touching, utc('2026-01-19T18:00:00'), BERLIN)).toEqual(utc('2026-01-20T06:00:00'));
  });

  it('is exact to the millisecond at a boundary, and quick', () => {
    const h = parseWorkHours('Mon-Fri 18:00-08:00, Sat-Sun 00:00-24:00, 12:00-12:05');
    const t0 = performance.now();
    let t: Date | undefined = utc('2026-01-01T00:00:00');
    const changes: Date[] = [];
    for (let i = 0; i < 60 && t; i++) changes.push((t = nextChange(h, t, BERLIN))!);
    const ms = performance.now() - t0;
    for (const c of changes) {
      expect(isWithin(h, c, BERLIN)).not.toBe(isWithin(h, +c - 1, BERLIN));
      expect(wallClock(+c, BERLIN).minutes % 1).toBe(0);
    }
    expect(ms).toBeLessThan(500);
  });
});
