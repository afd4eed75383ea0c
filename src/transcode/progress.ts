/**
 * Pure parser of ffmpeg's `-progress pipe:1` output: blocks of `key=value` lines, each block ended by
 * `progress=continue` (or `progress=end` for the last one). Values may be "N/A" (nothing encoded yet) and the
 * out_time of the very first block can be negative (before the first packet), so every field is optional.
 */
import { parseClock } from './clock.js';

/** One complete progress block, with the fields the pipeline uses (undefined when ffmpeg said N/A). */
export interface ProgressBlock {
  /** Media time written so far, in seconds. */
  outTimeSec?: number;
  frame?: number;
  fps?: number;
  /** Media seconds per wall second ("2.5x" -> 2.5). */
  speed?: number;
  totalSize?: number;
  ended: boolean;
}

function toNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().replace(/x$/, '');
  if (v === '' || v === 'N/A') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Turns the key/value pairs of one block into a ProgressBlock. */
export function parseProgressBlock(fields: ReadonlyMap<string, string>): ProgressBlock {
  // out_time_us is the precise field; out_time_ms is ALSO microseconds (a long-standing ffmpeg naming bug);
  // out_time is the clock form. Use whichever is present and sane.
  let outTimeSec: number | undefined;
  const us = toNumber(fields.get('out_time_us')) ?? toNumber(fields.get('out_time_ms'));
  if (us !== undefined && us >= 0) outTimeSec = us / 1_000_000;
  else outTimeSec = parseClock(fields.get('out_time'));
  const totalSize = toNumber(fields.get('total_size'));
  return {
    outTimeSec,
    frame: toNumber(fields.get('frame')),
    fps: toNumber(fields.get('fps')),
    speed: toNumber(fields.get('speed')),
    totalSize,
    ended: fields.get('progress')?.trim() === 'end',
  };
}

/**
 * Splits a stream of text into progress blocks. Feed it chunks as they come (lines may be cut anywhere);
 * it returns the blocks completed by each chunk.
 */
export class ProgressStreamParser {
  private carry = '';
  private fields = new Map<string, string>();

  push(chunk: string): ProgressBlock[] {
    const text = this.carry + chunk;
    const lines = text.split(/\r?\n|\r/);
    // The last element is an incomplete line (or ""); keep it for the next chunk, bounded so a runaway line
    // without a newline cannot grow memory without limit.
    this.carry = (lines.pop() ?? '').slice(-4096);
    const blocks: ProgressBlock[] = [];
    for (const line of lines) {
      const eq = line.indexOf('=');
      if (eq <= 0) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1);
      this.fields.set(key, value);
      if (key === 'progress') {
        blocks.push(parseProgressBlock(this.fields));
        this.fields = new Map();
      }
    }
    return blocks;
  }
}

/**
 * How far one ffmpeg run is. Declared here, beside what computes it, so media work imports nothing from the job
 * above it; the job's progress report has this same shape.
 */
export interface FfmpegProgress {
  /** 0..100, non-decreasing over one run. */
  progress: number;
  currentFps: number;
  etaSec: number;
}

/** The part of the film one run encodes (a range run, issue 12), in film seconds. */
export interface ProgressSpan {
  startSec: number;
  endSec: number;
}

/**
 * The media seconds a run's out_time counts up to. A range run's out_time counts from the run's own zero (the
 * first frame at or after the span's start), not from the film's: measured on ffmpeg 5.1 and 9.0 with
 * -output_ts_offset set (a resume of [16 s, 24 s) ended at out_time 7.984 s / 8.008 s; a part with its 0.2 s
 * audio post-roll at 8.208 s, which the tracker's 99.9 cap absorbs). So the span's length is the duration.
 */
export function progressDurationOf(durationSec: number, span?: ProgressSpan): number {
  return span ? Math.max(0, span.endSec - span.startSec) : durationSec;
}

/**
 * Turns blocks into an FfmpegProgress: percent of the source duration (non-decreasing, 100 only at
 * the end), the encoder's fps and an ETA from ffmpeg's speed (or from wall time when ffmpeg reports N/A).
 */
export class ProgressTracker {
  private last: FfmpegProgress = { progress: 0, currentFps: 0, etaSec: 0 };
  private lastOutTime = 0;

  constructor(
    private readonly durationSec: number,
    private readonly now: () => number = () => performance.now(),
    private readonly startedAt = now(),
  ) {}

  update(block: ProgressBlock): FfmpegProgress {
    const duration = this.durationSec > 0 ? this.durationSec : 0;
    if (block.outTimeSec !== undefined && block.outTimeSec > this.lastOutTime) this.lastOutTime = block.outTimeSec;
    let progress = duration > 0 ? (this.lastOutTime / duration) * 100 : this.last.progress;
    // Never claim 100 before ffmpeg says it is done: the muxer still has to flush after the last frame.
    progress = block.ended ? 100 : Math.min(progress, 99.9);
    progress = Math.max(this.last.progress, Math.round(progress * 10) / 10);

    const elapsedSec = Math.max(0, (this.now() - this.startedAt) / 1000);
    const speed = block.speed && block.speed > 0 ? block.speed : elapsedSec > 0 ? this.lastOutTime / elapsedSec : 0;
    const remaining = Math.max(0, duration - this.lastOutTime);
    const etaSec = block.ended ? 0 : speed > 0 ? Math.round(remaining / speed) : this.last.etaSec;
    const currentFps = block.fps !== undefined && block.fps >= 0 ? block.fps : this.last.currentFps;

    this.last = { progress, currentFps, etaSec };
    return this.last;
  }
}
