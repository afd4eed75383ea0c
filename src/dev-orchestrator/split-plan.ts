/**
 * The dev orchestrator's split policy as pure functions: whether a queued job is cut into parts, where the cuts
 * are, what the part and stitch jobs look like and how far the whole is (extension split-stitch/1,
 * docs/protocol.md). The state machine that applies them is split-jobs.ts.
 */
import { AUDIO_FRAME_SAMPLES, audioAlignmentStep, partBoundaries, segmentCount } from '../media/segment-grid.js';
import { SPLIT_STITCH_EXTENSION, type Capabilities, type Job } from '../protocol/schemas.js';
import { explainMisfit } from './fit.js';

/** About two parts per idle worker, so a slow machine does not hold the finish (a fast one takes a third part). */
export const PARTS_PER_IDLE_WORKER = 2;
/** More parts than this only add seams and per-part start-up cost. */
export const MAX_PARTS = 16;
/** The stitch's share of the parent's progress (the parts make the rest, weighted by their segments). */
export const STITCH_SHARE = 5;

export interface SplitPolicy {
  /** Sources strictly longer than this are split (seconds). */
  minDurationSec: number;
}

/** segment_time as the worker reads it: 0, null or absent mean the default 6. */
export function segmentTimeOf(job: Job): number {
  const t = job.hls_settings?.segment_time;
  return typeof t === 'number' && t > 0 ? t : 6;
}

/**
 * The alignment step of the job's audio (segments): AAC always, plus AC-3/E-AC-3 frames when the job asks for a
 * surround group. null: segment_time is not a whole number of samples, so no boundary but 0 is exact and the job
 * is not split. (Parts may start on any segment: the worker starts a part's audio on this step before it.)
 */
export function jobAlignmentStep(job: Job): number | null {
  const frames: number[] = [AUDIO_FRAME_SAMPLES.aac];
  if (job.audio_config?.surround === true) frames.push(AUDIO_FRAME_SAMPLES.eac3);
  return audioAlignmentStep(segmentTimeOf(job), frames);
}

/** A worker that may run part and stitch jobs of this job: it fits the job and lists the extension. */
export function isCapable(job: Job, caps: Capabilities): boolean {
  return explainMisfit(job, caps) === null && (caps.extensions ?? []).includes(SPLIT_STITCH_EXTENSION);
}

export interface PartRange {
  start: number;
  end: number;
}

/**
 * The parts of a job given its source duration and the capable idle workers, or the reason it is not split (a
 * sentence for the job record). Boundaries are contiguous segment indices, as equal as they can be (any segment
 * boundary is exact: the worker's audio handles the alignment); the last one ends at the film's segment count
 * (from the container duration, never below the film's real count).
 */
export function planParts(
  job: Job,
  durationSec: number,
  idleCapableWorkers: number,
): { parts: PartRange[] } | { reason: string } {
  if (idleCapableWorkers < 2) return { reason: `${idleCapableWorkers} capable worker(s) idle, 2 needed` };
  const t = segmentTimeOf(job);
  if (jobAlignmentStep(job) === null)
    return { reason: `segment_time ${t} s is not a whole number of audio samples: no exact cut` };
  const wanted = Math.min(MAX_PARTS, PARTS_PER_IDLE_WORKER * idleCapableWorkers);
  const parts = partBoundaries(durationSec, t, wanted);
  if (parts.length < 2)
    return { reason: `the film has only ${segmentCount(durationSec, t)} segment: too short to cut` };
  return { parts };
}

export const partJobId = (parentId: string, index: number) => `${parentId}.part-${index}`;
export const stitchJobId = (parentId: string) => `${parentId}.stitch`;

/** The part job: the parent's fields, its own id, and the range (always explicit). */
export function partJob(parent: Job, index: number, ranges: readonly PartRange[]): Job {
  const r = ranges[index]!;
  return {
    ...structuredClone(parent),
    job_id: partJobId(parent.job_id, index),
    part: {
      parent_job_id: parent.job_id,
      index,
      count: ranges.length,
      start_segment: r.start,
      end_segment: r.end,
    },
  };
}

export function stitchJob(parent: Job, count: number): Job {
  return {
    ...structuredClone(parent),
    job_id: stitchJobId(parent.job_id),
    stitch: { parent_job_id: parent.job_id, count },
  };
}

/**
 * The parent's progress: the parts weighted by their segment counts make 0..(100 - STITCH_SHARE), the stitch the
 * rest. Rounded to a tenth so a poll shows a stable figure.
 */
export function parentProgress(
  parts: ReadonlyArray<{ segments: number; progress: number }>,
  stitchProgress: number,
): number {
  const total = parts.reduce((n, p) => n + p.segments, 0) || 1;
  const done = parts.reduce((n, p) => n + (p.segments * Math.max(0, Math.min(100, p.progress))) / 100, 0);
  const value =
    ((100 - STITCH_SHARE) * done) / total + (STITCH_SHARE * Math.max(0, Math.min(100, stitchProgress))) / 100;
  return Math.round(value * 10) / 10;
}
