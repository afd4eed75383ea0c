/**
 * What the Apple-rules check (apple-rules.ts) reads: a staged HLS ladder described as plain facts, gathered by the
 * verify step from the playlists and the segments' bytes (no I/O here), and the catalogue of the rules it applies,
 * each with its source: "Apple n.n" is an item of Apple's "HLS Authoring Specification for Apple Devices", "RFC"
 * a section of RFC 8216 (HTTP Live Streaming).
 */

/** The rules, by id, with where each comes from. A violation names its rule by id. */
export const APPLE_RULES = {
  // Video codec (checked on the codec string read from the segments).
  'video-codec-string':
    'Apple 1.1, RFC 6381 3.3, ISO/IEC 14496-15 E.3, AV1-ISOBMFF: avc1.PPCCLL, hvc1.P.C.Lnn or av01.P.LLT.DD (AV1 in fMP4 only)',
  'h264-profile': 'Apple 1.3: H.264 profile at most High (Baseline 66, Main 77, High 100)',
  'h264-level': 'Apple 1.3: H.264 level at most 4.2',
  'hevc-profile': 'Apple 1.6: HEVC profile at most Main10 (general_profile_idc 1 or 2, profile space 0)',
  'hevc-level': 'Apple 1.6: HEVC level at most 5.0, High tier',
  'hevc-sample-entry': "Apple 1.10 and the issue: HEVC as 'hvc1' (parameter sets in the sample entry), not 'hev1'",
  'hevc-container': 'Apple 1.5: HEVC only in fMP4 segments',
  'level-below-content': 'H.264 Table A-1 / H.265 Tables A.8-A.9: the declared level holds the size and frame rate',
  // Multivariant (master) playlist.
  'codecs-present': 'Apple 9.1, 9.3, RFC 4.3.4.2: every EXT-X-STREAM-INF and I-frame tag has a valid CODECS',
  'codecs-video': "RFC 4.3.4.2: CODECS lists the video format of the variant's segments, and no other",
  'codecs-audio': "RFC 4.3.4.2: CODECS lists the audio group's format (and muxed audio), and no other audio",
  'audio-group-unknown': 'RFC 4.3.4.2: AUDIO names the GROUP-ID of an EXT-X-MEDIA TYPE=AUDIO',
  'subtitles-group-unknown': 'RFC 4.3.4.2: SUBTITLES names the GROUP-ID of an EXT-X-MEDIA TYPE=SUBTITLES',
  'subtitles-group-missing': 'Issue 11: when the ladder has subtitles, every variant references a subtitles group',
  'closed-captions': 'RFC 4.3.4.2 and the issue: every variant has CLOSED-CAPTIONS, NONE on all or a known group',
  'bandwidth-peak': 'Apple 1.27, 9.13, 6.9, RFC 4.3.4.2: BANDWIDTH at least the measured peak, within 10% of it',
  'average-bandwidth': 'Apple 9.14, 1.26: AVERAGE-BANDWIDTH present and within 10% of the measured average',
  resolution: 'Apple 9.2, 9.4: RESOLUTION on every variant with video and every I-frame variant',
  'frame-rate': 'Apple 9.15, 1.19, RFC 4.3.4.2: FRAME-RATE on video variants, at most 60, three decimals at most',
  'video-range': 'Apple 9.16: VIDEO-RANGE matches the transfer function (SDR, PQ, HLG); required unless all SDR',
  'independent-segments': 'Apple 9.11, 9.12, 7.4: EXT-X-INDEPENDENT-SEGMENTS in the master or every video playlist',
  'master-version': 'Apple "About the EXT-X-VERSION tag": master EXT-X-VERSION covers the features it uses',
  'audio-group-coverage': 'Apple appendix "Audio rendition groups and variants": every video rung with every group',
  'iframe-playlists': 'Apple 6.1 and the issue: an I-frame playlist for every video rung (codec and resolution)',
  'playlist-missing': 'RFC 4.3.4.1-4.3.4.3: every URI the master references is a staged media playlist',
  // Renditions (EXT-X-MEDIA).
  'rendition-name-unique': 'RFC 4.3.4.1.1: NAMEs differ within a group',
  'rendition-default': 'RFC 4.3.4.1.1, 4.3.4.1: at most one DEFAULT=YES per group, and it has AUTOSELECT=YES',
  'rendition-autoselect-distinct':
    'RFC 4.3.4.1.1: AUTOSELECT=YES members differ in LANGUAGE, FORCED or CHARACTERISTICS',
  'rendition-forced': 'RFC 4.3.4.1: FORCED only on SUBTITLES; Apple 5.11: FORCED=YES with AUTOSELECT=YES',
  'rendition-language': 'RFC 4.3.4.1: LANGUAGE, when written, is BCP-47 (Apple 8.10 wants one; unknown is left out)',
  'rendition-accessibility': 'Apple 2.13, 4.5, 4.6: described video and SDH renditions are marked and AUTOSELECT=YES',
  'audio-codec': 'Apple 2.2, 2.5 and its CODECS appendix: an audio format Apple devices play',
  'audio-channels': 'RFC 8216bis 4.4.6.1 and the issue: CHANNELS on every audio rendition ("2", "6", "16/JOC")',
  'stereo-aac': 'Apple 2.3: a stereo AAC group is provided',
  // Media playlists.
  'target-duration': 'RFC 4.3.3.1, Apple 7.7: every EXTINF rounded is <= EXT-X-TARGETDURATION (a positive integer)',
  'target-duration-configured': 'Apple 7.5 (6 s recommended): the target duration is the configured segment time',
  'target-duration-uniform': 'Apple 8.2: audio and video playlists use the same target duration',
  'same-duration': 'Apple 8.3, 8.7, 5.5: audio, video and subtitle playlists last as long as each other',
  endlist: 'RFC 4.3.3.4: a VOD media playlist ends with EXT-X-ENDLIST',
  'playlist-type-vod': 'Apple 8.6: VOD media playlists have EXT-X-PLAYLIST-TYPE:VOD',
  'map-present': 'Apple 8.20: fMP4 media playlists have EXT-X-MAP',
  'playlist-version': 'RFC 7: media EXT-X-VERSION >= 3 for decimal EXTINF, 4 byte ranges / I-frames, 5-6 EXT-X-MAP',
  'iframes-only': 'Apple 6.8: I-frame playlists (and only they) have EXT-X-I-FRAMES-ONLY',
} as const satisfies Record<string, string>;

export type AppleRuleId = keyof typeof APPLE_RULES;

export interface RuleViolation {
  rule: AppleRuleId;
  /** The URI concerned (a media playlist, or the master's name for the master's own tags). */
  where: string;
  /** For people: what is wrong, with the measured value and the limit. */
  message: string;
  /**
   * Where the fault is: "master" (the master we write: rewrite it from the facts), "media-playlist" (a media
   * playlist's tags: rewritable without re-encoding), "media" (the encoded streams or the plan: no rewrite helps).
   */
  layer: 'master' | 'media-playlist' | 'media';
}

export interface VariantFacts {
  /** The variant's media playlist URI, as written in the master. */
  uri: string;
  /** CODECS, split at commas; empty when the attribute is missing. */
  codecs: string[];
  bandwidth: number;
  averageBandwidth?: number;
  /** RESOLUTION; absent when the attribute is. */
  width?: number;
  height?: number;
  frameRate?: number;
  /** VIDEO-RANGE as written (SDR, PQ, HLG); absent when the attribute is. */
  videoRange?: string;
  audioGroup?: string;
  subtitlesGroup?: string;
  /** CLOSED-CAPTIONS: "NONE", a group id, or absent. */
  closedCaptions?: string;
  /** Measured from the segments: the video codec string (avc1.640028, hvc1.2.4.L150.B0); absent: audio only. */
  videoCodec?: string;
  /** Measured: the codec of an audio stream muxed into the variant's own segments, if any. */
  muxedAudioCodec?: string;
  /** Measured: the video's transfer function (absent = SDR). */
  transfer?: 'sdr' | 'pq' | 'hlg';
}

export interface IFrameVariantFacts {
  uri: string;
  codecs: string[];
  bandwidth: number;
  averageBandwidth?: number;
  width?: number;
  height?: number;
  /** Measured from the segments the I-frame playlist points into. */
  videoCodec?: string;
}

export type MediaKind = 'video' | 'audio' | 'subtitles' | 'iframes';

export interface MediaPlaylistFacts {
  uri: string;
  /** The role the master gives it (a variant, an audio or subtitles rendition, an I-frame variant). */
  kind: MediaKind;
  /** EXT-X-VERSION; absent when the tag is (version 1). */
  version?: number;
  targetDuration: number;
  /** Every EXTINF, in order. */
  segmentDurations: number[];
  hasEndlist: boolean;
  playlistType?: string;
  hasMap: boolean;
  hasByteRange: boolean;
  /** The playlist has EXT-X-I-FRAMES-ONLY. */
  iFramesOnly: boolean;
  /** The playlist has EXT-X-INDEPENDENT-SEGMENTS. */
  independentSegments: boolean;
  /** Measured peak segment bit rate (RFC 4.3.4.2 / 8216bis), bits/s; 0 for subtitles if unmeasured. */
  peakBitrate: number;
  /** Measured average bit rate over the whole playlist, bits/s. */
  averageBitrate: number;
}

export interface AudioRenditionFacts {
  name: string;
  language?: string;
  isDefault: boolean;
  autoselect: boolean;
  /** FORCED=YES (never allowed on audio; kept so a writer bug shows). */
  forced?: boolean;
  /** CHANNELS as written ("2", "6", "16/JOC"). */
  channels?: string;
  characteristics?: string[];
  uri: string;
}

export interface SubtitleRenditionFacts {
  name: string;
  language?: string;
  isDefault: boolean;
  autoselect: boolean;
  forced: boolean;
  characteristics?: string[];
  uri: string;
}

export interface AudioGroupFacts {
  id: string;
  /** The group's one audio format: mp4a.40.2, ac-3, ec-3. */
  codec: string;
  renditions: AudioRenditionFacts[];
}

export interface SubtitleGroupFacts {
  id: string;
  renditions: SubtitleRenditionFacts[];
}

export interface LadderFacts {
  /** Name of the master playlist, used as `where` for its own tags. */
  masterUri: string;
  /** The master's EXT-X-VERSION; absent when the tag is. */
  masterVersion?: number;
  segmentType: 'ts' | 'fmp4';
  /** The master has EXT-X-INDEPENDENT-SEGMENTS. */
  independentSegments: boolean;
  /** The segment time the plan asked for (hls_time), seconds. */
  segmentTime?: number;
  variants: VariantFacts[];
  iframeVariants: IFrameVariantFacts[];
  mediaPlaylists: MediaPlaylistFacts[];
  audioGroups: AudioGroupFacts[];
  subtitleGroups: SubtitleGroupFacts[];
  /** GROUP-IDs of EXT-X-MEDIA TYPE=CLOSED-CAPTIONS (none in what we write). */
  closedCaptionGroups?: string[];
}

export function violation(
  rule: AppleRuleId,
  where: string,
  message: string,
  layer: RuleViolation['layer'],
): RuleViolation {
  return { rule, where, message, layer };
}
