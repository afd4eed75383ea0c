/**
 * The staged ladder as the Apple-rules check reads it (apple-rule-facts.ts LadderFacts): the master exactly as
 * written (its variants, renditions and I-frame variants), every media playlist's tags as parsed from the staged
 * file, and what was measured from the segments (bitrates, the codec string read from the bytes). Pure.
 */
import type { LadderFacts, MediaKind, MediaPlaylistFacts } from './apple-rule-facts.js';
import type { MasterIFrameVariant, MasterMedia, MasterVariant } from './master-playlist.js';
import type { CheckedMediaPlaylist } from './playlist-check.js';

export interface CheckedPlaylistRef {
  /** URI as the master lists it. */
  uri: string;
  kind: MediaKind;
  checked: CheckedMediaPlaylist;
  /** For I-frame playlists: the peak/average of the I-frame ranges (not of the whole segments). */
  rates?: { peak: number; average: number };
}

export interface LadderFactsInput {
  masterName: string;
  masterVersion: number;
  segmentType: 'ts' | 'fmp4';
  segmentTime: number;
  independentSegments: boolean;
  variants: ReadonlyArray<MasterVariant & { videoCodec?: string; transfer?: 'sdr' | 'pq' | 'hlg' }>;
  iframes: ReadonlyArray<MasterIFrameVariant & { videoCodec?: string }>;
  media: readonly MasterMedia[];
  /** GROUP-ID -> the group's codec string. */
  audioGroupCodecs: ReadonlyMap<string, string>;
  playlists: readonly CheckedPlaylistRef[];
}

function mediaFacts(p: CheckedPlaylistRef): MediaPlaylistFacts {
  const c = p.checked;
  return {
    uri: p.uri,
    kind: p.kind,
    version: c.version,
    targetDuration: c.targetDuration,
    segmentDurations: c.segmentDurations,
    ...c.tags,
    peakBitrate: p.rates?.peak ?? c.peak,
    averageBitrate: p.rates?.average ?? c.average,
  };
}

export function ladderFactsOf(i: LadderFactsInput): LadderFacts {
  const audioIds = [...new Set(i.media.filter((m) => m.type === 'AUDIO').map((m) => m.groupId))];
  const subtitleIds = [...new Set(i.media.filter((m) => m.type === 'SUBTITLES').map((m) => m.groupId))];
  return {
    masterUri: i.masterName,
    masterVersion: i.masterVersion,
    segmentType: i.segmentType,
    independentSegments: i.independentSegments,
    segmentTime: i.segmentTime,
    variants: i.variants.map((v) => ({
      uri: v.uri,
      codecs: v.codecs,
      bandwidth: Math.max(1, Math.round(v.bandwidth)),
      averageBandwidth: Math.max(1, Math.round(v.averageBandwidth)),
      ...(v.width && v.height ? { width: v.width, height: v.height } : {}),
      // As written: three decimals.
      ...(v.frameRate ? { frameRate: Number(v.frameRate.toFixed(3)) } : {}),
      ...(v.audioGroup ? { audioGroup: v.audioGroup } : {}),
      ...(v.subtitlesGroup ? { subtitlesGroup: v.subtitlesGroup } : {}),
      closedCaptions: 'NONE',
      ...(v.videoCodec ? { videoCodec: v.videoCodec } : {}),
      ...(v.transfer ? { transfer: v.transfer } : {}),
    })),
    iframeVariants: i.iframes.map((f) => ({
      uri: f.uri,
      codecs: f.codecs,
      bandwidth: Math.max(1, Math.round(f.bandwidth)),
      ...(f.averageBandwidth ? { averageBandwidth: Math.max(1, Math.round(f.averageBandwidth)) } : {}),
      width: f.width,
      height: f.height,
      ...(f.videoCodec ? { videoCodec: f.videoCodec } : {}),
    })),
    mediaPlaylists: i.playlists.map(mediaFacts),
    audioGroups: audioIds.map((id) => ({
      id,
      codec: i.audioGroupCodecs.get(id) ?? '',
      renditions: i.media
        .filter((m) => m.type === 'AUDIO' && m.groupId === id)
        .map((m) => ({
          name: m.name,
          ...(m.language ? { language: m.language } : {}),
          isDefault: m.isDefault,
          autoselect: m.autoselect,
          ...(m.channels ? { channels: m.channels } : {}),
          ...(m.characteristics?.length ? { characteristics: [...m.characteristics] } : {}),
          uri: m.uri,
        })),
    })),
    subtitleGroups: subtitleIds.map((id) => ({
      id,
      renditions: i.media
        .filter((m) => m.type === 'SUBTITLES' && m.groupId === id)
        .map((m) => ({
          name: m.name,
          ...(m.language ? { language: m.language } : {}),
          isDefault: m.isDefault,
          autoselect: m.autoselect,
          forced: m.forced === true,
          ...(m.characteristics?.length ? { characteristics: [...m.characteristics] } : {}),
          uri: m.uri,
        })),
    })),
  };
}
