/**
 * A job whose every field has been checked and resolved (src/job/validate.ts makes it): what the planner and the
 * argv builders work from. Defined here, below the job room, because the media work reads it.
 */
import type { Job } from '../protocol/schemas.js';
import type { RequestedResolution } from '../media/resolutions.js';

export const DEFAULT_SEGMENT_TIME = 6;
export const DEFAULT_MASTER_PLAYLIST = 'index.m3u8';
export const DEFAULT_AUDIO_BITRATE = 128_000;

/** Surround group defaults: E-AC-3 5.1 at 384 kbit/s, as Apple's authoring spec allows for 5.1. */
export const DEFAULT_SURROUND_BITRATE = 384_000;

/** The job's audio wishes (audio_config and per-output audio_codec / audio_bitrate), resolved. */
export interface ValidatedAudioConfig {
  /** The always-present stereo group's codec: AAC-LC only. */
  codec: 'aac';
  /** audio_config.bitrate, else 128k: the bitrate of outputs that name none. */
  bitrate: number;
  /** A second group carrying >2-channel source tracks as 5.1 (audio_config.surround); null: stereo only. */
  surround: { codec: 'eac3' | 'ac3'; bitrate: number } | null;
  /**
   * Languages to keep (audio_config.languages), as lower-case primary BCP-47 subtags ("en", "fr"); empty keeps
   * every track. A track of unknown language is kept only when no listed language matched any track.
   */
  languages: string[];
}

/** The job's subtitle wishes (the optional `subtitles` object), resolved. */
export interface ValidatedSubtitleConfig {
  /** Text subtitle streams of the source become WebVTT renditions (default true). */
  include: boolean;
  /** Sidecar files beside the source (Movie.en.srt, Movie.fr.forced.srt) are added (default true). */
  sidecars: boolean;
}

export interface ValidatedOutput {
  /** Relative to the NAS root, forward slashes, no leading/trailing slash. */
  destPath: string;
  /** Absolute folder on the NAS (platform form). */
  absDestDir: string;
  resolution: RequestedResolution;
  /** Bits per second. */
  videoBitrate: number;
  /** AAC bitrate of the stereo group this rung plays with (audio_bitrate, else audio_config.bitrate, else 128k). */
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
  audio: ValidatedAudioConfig;
  subtitles: ValidatedSubtitleConfig;
}
