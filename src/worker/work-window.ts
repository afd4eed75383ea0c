/**
 * The configured work hours at run time: whether a new job may start now, whether a running one must hold (pause
 * mode), what /status shows, and one log line at each edge of the window. The window maths is work-hours.ts's.
 */
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { WorkHoursError, describeChange, isWithin, nextChange, parseWorkHours, type WorkHours } from './work-hours.js';

/** Parses config.work_hours, or throws a ConfigError naming the key, the value and what is wrong with it. */
export function workHoursOf(config: Pick<Config, 'work_hours'>): WorkHours {
  try {
    return parseWorkHours(config.work_hours);
  } catch (err) {
    if (err instanceof WorkHoursError)
      throw new ConfigError(`invalid work_hours = ${JSON.stringify(config.work_hours)}: ${err.message}`);
    throw err;
  }
}

export interface WorkWindowView {
  /** The configured value; "" means always. */
  hours: string;
  within: boolean;
  /** When `within` changes next (ISO), or null for never. */
  until: string | null;
  /** What a job running at the end of the window does. */
  running_job: 'finish' | 'pause';
}

export interface WorkWindowDeps {
  config: Pick<Config, 'work_hours' | 'work_hours_running_job'>;
  log: Logger;
  /** Tests pass a zone; production follows the process's (TZ). */
  timeZone?: string;
}

export class WorkWindow {
  private readonly hours: WorkHours;
  /** The last state logged, so that each edge is logged once. */
  private lastWithin: boolean | undefined;
  /** nextChange is cached until it passes: the schedule is fixed, so it stays true until then. */
  private cached?: { within: boolean; until: Date | undefined; validTo: number };

  constructor(private readonly deps: WorkWindowDeps) {
    this.hours = workHoursOf(deps.config);
  }

  get always(): boolean {
    return this.hours.ranges.length === 0;
  }

  private state(now: number): { within: boolean; until: Date | undefined } {
    if (this.always) return { within: true, until: undefined };
    if (!this.cached || now >= this.cached.validTo || now < this.cached.validTo - 9 * 86_400_000) {
      const until = nextChange(this.hours, now, this.deps.timeZone);
      const within = isWithin(this.hours, now, this.deps.timeZone);
      // Never changing: check again in a day (the clock may have been set; the cache must not live forever).
      this.cached = { within, until, validTo: until ? +until : now + 86_400_000 };
    }
    return this.cached;
  }

  /** Why no new job may start now (outside the work hours), or undefined. Logs the window's edges. */
  noNewJobReason(now: number): string | undefined {
    const { within, until } = this.state(now);
    if (within !== this.lastWithin) {
      const first = this.lastWithin === undefined;
      this.lastWithin = within;
      const next = until ? describeChange(until, now, this.deps.timeZone) : undefined;
      if (!within)
        this.deps.log.info(
          { work_hours: this.hours.text, until: until?.toISOString() },
          `outside work hours${next ? ` until ${next}` : ''}: taking no new job${
            !first && this.deps.config.work_hours_running_job === 'pause' ? '; a running job is paused' : ''
          }`,
        );
      else if (!first)
        this.deps.log.info(
          { work_hours: this.hours.text, until: until?.toISOString() },
          'work hours started: taking jobs again',
        );
    }
    return within ? undefined : this.reason(now, until);
  }

  /**
   * For the pause controller (polled while a job runs): why the running job must hold now, in pause mode outside the
   * work hours; undefined otherwise.
   */
  holdReason(now: number): string | undefined {
    if (this.deps.config.work_hours_running_job !== 'pause') return undefined;
    const { within, until } = this.state(now);
    return within ? undefined : this.reason(now, until);
  }

  private reason(now: number, until: Date | undefined): string {
    return `outside work hours (${this.hours.text})${
      until ? ` until ${describeChange(until, now, this.deps.timeZone)}` : ''
    }`;
  }

  /** The /status view; null when no work hours are configured. */
  view(now: number): WorkWindowView | null {
    if (this.always) return null;
    const { within, until } = this.state(now);
    return {
      hours: this.hours.text,
      within,
      until: until?.toISOString() ?? null,
      running_job: this.deps.config.work_hours_running_job,
    };
  }
}
