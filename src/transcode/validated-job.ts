/**
 * A job whose every field has been checked and resolved (src/job/validate.ts makes it): what the planner and the
 * argv builders work from. Defined here, below the job room, because the media work reads it.
 */
import type { Job } from '../protocol/schemas.js';
import type { RequestedResolution } from '../media/resolutions.js';

export const DEFAULT_SEGMENT_TIME = 6;
export const DEFAULT_MASTER_PLAYLIST = 'index.m3u8';
export const DEFAULT_AUDIO_BITRATE = 128_000;

export interface ValidatedOutput {
  /** Relative to the NAS root, forward slashes, no leading/trailing slash. */
  destPath: string;
  /** Absolute folder on the NAS (platform form). */
  absDestDir: string;
  resolution: RequestedResolution;
  /** Bits per second. */
  videoBitrate: number;
  audioBitrate: number;
  codec: string;
  /** Position in job.outputs. */
  index: number;
}

export interface ValidatedJob {
  job: Job;
  /** Absolute path of the source on the NAS. */
  inputPath: string;
  outputs: ValidatedOutput[];
  masterPlaylistName: string;
  segmentTime: number;
  segmentType: 'ts' | 'fmp4';
  /** Deepest folder common to all destPaths, relative to the NAS root. */
  masterDir: string;
  /** "/" + masterDir + "/" + masterPlaylistName. */
  manifestUrl: string;
  /**
   * The NAS folds case (case-folding.ts): "Movies" and "movies" are one folder there, so folder comparisons
   * (the source's folders, outputs apart) ignore case.
   */
  caseInsensitive: boolean;
}
