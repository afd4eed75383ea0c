/**
 * How far a running transcode is, as ffmpeg's progress blocks tell it. Defined here, below the job room, because the
 * ffmpeg run produces it; the job's contract (src/job/contract.ts) hands the same shape on to the lifecycle.
 */
export interface JobProgress {
  /** 0..100, non-decreasing over one job. */
  progress: number;
  currentFps: number;
  etaSec: number;
}
