/**
 * The split-stitch/1 fields of a job (docs/protocol.md, "Extension: split and stitch") as the executors read them,
 * and the pure decisions about them: which segments a part encodes, and the ladder "shape" every part and the
 * stitch must agree on.
 */
import { JobValidationError } from '../errors.js';
import type { Job, JobPart, JobStitch } from '../protocol/schemas.js';
import { partBoundaries, segmentCount } from '../media/segment-grid.js';
import { allAudioRenditions } from '../transcode/plan-audio.js';
import type { TranscodePlan } from '../transcode/types.js';

export type PartSpec = JobPart;
export type StitchSpec = JobStitch;

/**
 * The segments [start, end) a part encodes; start === end for a part past a short film's last segment (empty). Any
 * segment boundary will do: a part whose start is off the audio alignment step starts its audio at the step before
 * it and leaves the segments before its start out (part-job.ts).
 */
export function resolvePartRange(
  part: PartSpec,
  durationSec: number,
  segmentTime: number,
): { start: number; end: number; total: number } {
  const total = segmentCount(durationSec, segmentTime);
  if (part.index >= part.count)
    throw new JobValidationError(`part.index ${part.index} is not below part.count ${part.count}`);
  if (part.start_segment === undefined || part.start_segment === null) {
    const parts = partBoundaries(durationSec, segmentTime, part.count);
    const mine = parts[part.index];
    return mine ? { ...mine, total } : { start: total, end: total, total };
  }
  const start = part.start_segment;
  const end = Math.min(total, part.end_segment ?? total);
  if (start >= total) throw new JobValidationError(`part.start_segment ${start} is past the film's ${total} segments`);
  if (end <= start) throw new JobValidationError(`part.end_segment ${end} must be after part.start_segment ${start}`);
  return { start, end, total };
}

/**
 * What every part of one film must share for its segments to join: rendition folders, sizes, bitrates, GOP,
 * segmenting, audio. Not the encoders (the stitch worker encodes nothing and plans in software) nor any path.
 */
export function ladderShape(plan: TranscodePlan): unknown {
  return {
    renditions: plan.renditions.map((r) => [r.variantDir, r.width, r.height, r.videoBitrate, r.maxRate, r.bufSize]),
    audio: allAudioRenditions(plan.audioGroups).map((a) => [a.dir, a.streamIndex, a.codec, a.channels, a.bitrate]),
    segment: [plan.segmentTime, plan.segmentType, plan.playlistName],
    picture: [plan.fps, plan.gopFrames, plan.frameRateCap ?? null, plan.toneMap, plan.deinterlace],
  };
}

/** The job's part, when it is one (job.part of the split-stitch/1 extension). */
export function partOf(job: Job): PartSpec | undefined {
  return job.part ?? undefined;
}

/** The job's stitch, when it is one (job.stitch of the split-stitch/1 extension). */
export function stitchOf(job: Job): StitchSpec | undefined {
  return job.stitch ?? undefined;
}
