/**
 * The data that flows through the pipeline: job -> (validate) ValidatedJob -> (ffprobe) SourceInfo ->
 * (plan) TranscodePlan -> (args builder, pure) argv -> (ffmpeg) staged tree -> (verify, commit) NAS.
 */
import type { EncoderFamily } from '../capabilities/types.js';

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

export interface AudioStreamInfo {
  index: number;
  codec: string;
  channels: number;
  channelLayout?: string;
  language?: string;
  isDefault: boolean;
}

export interface SubtitleStreamInfo {
  index: number;
  codec: string;
  language?: string;
}

export interface SourceInfo {
  path: string;
  formatName: string;
  durationSec: number;
  sizeBytes: number;
  bitRate?: number;
  video: VideoStreamInfo;
  audio: AudioStreamInfo[];
  subtitles: SubtitleStreamInfo[];
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
  /** AAC bitrate of this rendition's audio (bits/s); plan.audio.bitrate when absent. */
  audioBitrate?: number;
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

export interface AudioPlan {
  streamIndex: number;
  /** Always stereo AAC for browser compatibility; 5.1/7.1 are downmixed. */
  channels: 2;
  bitrate: number;
  sourceChannels: number;
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
  /** Output frame rate and the GOP that puts a keyframe on every segment boundary. */
  fps: number;
  gopFrames: number;
  audio: AudioPlan | null;
  /** HDR source to SDR BT.709 output. */
  toneMap: boolean;
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
