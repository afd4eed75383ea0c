/**
 * The data that flows through the pipeline: job -> (validate) ValidatedJob -> (ffprobe) SourceInfo ->
 * (plan) TranscodePlan -> (args builder, pure) argv -> (ffmpeg) staged tree -> (verify, commit) NAS.
 */
import type { EncoderFamily, ToneMapperPath } from '../capabilities/types.js';
import type { UploadDevice } from '../media/tone-map-chains.js';

export type HdrTransfer = 'pq' | 'hlg';

export interface VideoStreamInfo {
  /** Absolute stream index in the container (for -map 0:N). */
  index: number;
  codec: string;
  profile?: string;
  width: number;
  height: number;
  /** Sample aspect ratio; 1/1 for square pixels. */
  sarNum: number;
  sarDen: number;
  /** Display rotation in degrees (0, 90, 180, 270), from the display matrix side data or the rotate tag. */
  rotation: number;
  /** Average frame rate (r_frame_rate when avg is missing). */
  fps: number;
  /**
   * r_frame_rate: the rate every timestamp fits, which ffmpeg makes the output's constant rate by default; the
   * nominal rate of a variable-rate file (plan-frame-rate.ts). Undefined when not stated.
   */
  baseFps?: number;
  pixFmt: string;
  bitDepth: number;
  colorTransfer?: string;
  colorPrimaries?: string;
  colorSpace?: string;
  colorRange?: string;
  /** PQ (smpte2084) or HLG (arib-std-b67) mean HDR. */
  hdr: HdrTransfer | null;
  interlaced: boolean;
}

/** What ffprobe's disposition flags say of an audio or subtitle stream (all false when absent). */
export interface StreamDisposition {
  default: boolean;
  forced: boolean;
  /** Director's commentary and the like ("comment"). */
  comment: boolean;
  hearingImpaired: boolean;
  visualImpaired: boolean;
  /** Audio description of the picture for the blind ("descriptions"). */
  descriptions: boolean;
}

export interface AudioStreamInfo {
  index: number;
  codec: string;
  channels: number;
  channelLayout?: string;
  /** Samples per second as ffprobe states them (44100, 48000, ...); undefined when it states none. */
  sampleRate?: number;
  /** The raw language tag (ISO 639-2 such as "fre", or whatever the file says); "und" is left out. */
  language?: string;
  /** The title tag ("English 5.1", "Director's commentary"). */
  title?: string;
  isDefault: boolean;
  disposition: StreamDisposition;
}

export interface SubtitleStreamInfo {
  index: number;
  codec: string;
  language?: string;
  title?: string;
  disposition: StreamDisposition;
}

export interface SourceInfo {
  path: string;
  formatName: string;
  durationSec: number;
  sizeBytes: number;
  bitRate?: number;
  /** null for an audio-only source (music, an audiobook): the ladder is then audio renditions only. */
  video: VideoStreamInfo | null;
  audio: AudioStreamInfo[];
  subtitles: SubtitleStreamInfo[];
}

/**
 * The source's video stream, for code that only runs when the ladder has video rungs (an audio-only source plans
 * none, so reaching here without video is a programming error, not a user's).
 */
export function videoStreamOf(source: Pick<SourceInfo, 'video' | 'path'>): VideoStreamInfo {
  if (!source.video) throw new Error(`${source.path} has no video stream: an audio-only plan has no video rungs`);
  return source.video;
}

export interface RenditionPlan {
  /** Unique, filesystem-safe label (e.g. "720p", "720p-2") for logs and metrics. */
  name: string;
  /**
   * The rendition's folder in the staging folder: "." when destPath is masterDir itself, else a synthetic name
   * ("v0", "v1", ...). This is the hls muxer's var_stream_map name (%v in the output patterns expands to it), so
   * it must never hold spaces, commas or '%'; the commit copies it to destPath, whatever that folder is called.
   */
  variantDir: string;
  /** Position of the output in job.outputs. */
  index?: number;
  /** GROUP-ID of the stereo AAC audio group this rung plays with (absent when the source has no audio kept). */
  audioGroupId?: string;
  /** True when the request was taller than the source and was clamped to the source size (never upscale). */
  clamped?: boolean;
  /** dest_path normalised: relative to the NAS root, forward slashes, no trailing slash. */
  destPath: string;
  /** Output size: even, never larger than the source, display aspect ratio kept. */
  width: number;
  height: number;
  videoBitrate: number;
  maxRate: number;
  bufSize: number;
  /** Encoder that will really be used, and the one the job asked for (they differ on software fallback). */
  encoder: string;
  requestedEncoder: string;
  family: EncoderFamily;
  /** Media playlist file name inside destPath (never equal to the master playlist name). */
  playlistName: string;
}

/**
 * The labels a player shows for one audio or subtitle rendition (#EXT-X-MEDIA attributes), made by
 * media/track-labels.ts from the stream's tags and dispositions.
 */
export interface TrackLabel {
  /** BCP-47 ("en", "fr", "pt-BR"); absent when the stream's language is unknown ("und"). */
  language?: string;
  /** Unique within its group and readable ("English", "Français", "English (Commentary)", "English 5.1"). */
  name: string;
  isDefault: boolean;
  autoselect: boolean;
  /** Subtitles only: shown even when subtitles are off (a foreign-language line in the film). */
  forced: boolean;
  /** Apple's CHARACTERISTICS UTIs ("public.accessibility.describes-video", "public.accessibility.transcribes-spoken-dialog", ...). */
  characteristics: string[];
}

/** Codecs of the audio renditions: AAC-LC stereo always, AC-3 / E-AC-3 for the optional surround group. */
export type AudioCodec = 'aac' | 'ac3' | 'eac3';

/** A group of audio renditions (#EXT-X-MEDIA GROUP-ID): every source track, once, in one codec and layout. */
export interface AudioGroupPlan {
  /** GROUP-ID, also the prefix of its renditions' ids ("aac-128", "ec3-5.1"). */
  id: string;
  codec: AudioCodec;
  /** 2 for the always-present stereo group, 6 for the surround group. */
  channels: number;
  bitrate: number;
  renditions: AudioRenditionPlan[];
}

/** One source audio stream encoded once into one group. */
export interface AudioRenditionPlan {
  /**
   * Staging folder relative to stagingDir, and the same path relative to masterDir on the NAS
   * ("<master stem>_tracks/a0"): also its var_stream_map name, so only [A-Za-z0-9._/-].
   */
  dir: string;
  streamIndex: number;
  sourceChannels: number;
  sourceLayout?: string;
  /**
   * The source track's sample rate (undefined: not stated). A range run resamples a track that is not at 48 kHz
   * before it moves its timestamps, and seeks on a grid that is whole samples of it too (args/range.ts).
   */
  sourceSampleRate?: number;
  /** Output channels (2, or 6 in the surround group). */
  channels: number;
  codec: AudioCodec;
  bitrate: number;
  groupId: string;
  label: TrackLabel;
}

/** One text subtitle track (embedded stream or sidecar file) that becomes a segmented WebVTT rendition. */
export interface SubtitlePlan {
  /** Staging folder relative to stagingDir and to masterDir on the NAS ("<master stem>_tracks/s0"). */
  dir: string;
  source:
    | { kind: 'embedded'; streamIndex: number; codec: string }
    /** A file beside the source (Movie.fr.forced.srt): absolute path, checked inside the source's folder. */
    | { kind: 'sidecar'; path: string; format: 'srt' | 'webvtt' | 'ass' };
  /** Where ffmpeg writes the whole track as one WebVTT file before it is cut into segments (absolute). */
  fullVttPath: string;
  label: TrackLabel;
}

/** An image subtitle stream (PGS, DVB, VobSub) left out of the ladder, reported in the finalize metrics. */
export interface SkippedSubtitle {
  index: number;
  codec: string;
  language?: string;
  reason: string;
}

export interface TranscodePlan {
  jobId: string;
  inputPath: string;
  source: SourceInfo;
  /** Absolute staging folder (src/storage/paths.ts jobStagingDir). Its layout mirrors the NAS relative to masterDir. */
  stagingDir: string;
  /** Deepest folder common to all destPaths, relative to the NAS root ("" for the root itself). */
  masterDir: string;
  masterPlaylistName: string;
  /** "/" + masterDir + "/" + masterPlaylistName. */
  manifestUrl: string;
  segmentTime: number;
  segmentType: 'ts' | 'fmp4';
  /** Name of every media playlist (video rungs, audio and subtitle renditions); never the master's. */
  playlistName: string;
  /** Output frame rate and the GOP that puts a keyframe on every segment boundary. */
  fps: number;
  /**
   * The output rate pinned with the fps filter: a source faster than players take (above 60 fps) thinned to it, or a
   * variable-rate source made constant at its nominal rate (plan-frame-rate.ts). Absent: no fps filter.
   */
  frameRateCap?: number;
  gopFrames: number;
  /**
   * Audio groups, each holding every kept source track once (encoded once per job, not once per video rung).
   * Empty for a source without audio. groups[0] is the AAC stereo group that every player can play.
   */
  audioGroups: AudioGroupPlan[];
  /** Text subtitle tracks, as WebVTT renditions. */
  subtitles: SubtitlePlan[];
  skippedSubtitles: SkippedSubtitle[];
  /** Folder (relative to stagingDir and to masterDir) that holds the audio and subtitle renditions. */
  tracksDir: string;
  /** HDR source to SDR BT.709 output. */
  toneMap: boolean;
  /**
   * How the tone mapping runs (set exactly when toneMap is): 'cpu' (zscale + tonemap), 'vaapi'/'qsv'/'opencl-vaapi'/
   * 'opencl-qsv' on the decode device's frames (hwDecode.framesOnDevice), 'libplacebo'/'opencl' on an uploaded
   * copy of CPU frames (toneMapDevice). Chosen from the probe's verified paths (transcode/plan-tonemap.ts).
   */
  toneMapper?: ToneMapperPath;
  /** The Vulkan/OpenCL device a 'libplacebo'/'opencl' path uploads to. */
  toneMapDevice?: UploadDevice;
  /** Deinterlace before scaling. */
  deinterlace: boolean;
  /** Hardware decode used for the whole ladder, if any. */
  hwDecode: {
    kind: 'cuda' | 'qsv' | 'vaapi';
    device?: string;
    /** Decoded frames stay in GPU memory for scaling; false downloads them for CPU filters (tone mapping, rotation). */
    framesOnDevice?: boolean;
  } | null;
  /** Render node / device index for hardware renditions (VAAPI/QSV need it even without hardware decode). */
  hwDevice?: string;
  /** x264/x265 preset for software renditions. */
  softwarePreset: string;
  renditions: RenditionPlan[];
}
