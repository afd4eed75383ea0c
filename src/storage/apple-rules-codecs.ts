/**
 * Apple's rules on codecs: the video codec read from the segments against Apple's profile/level ceilings and
 * containers, and each variant's CODECS attribute against what its segments and renditions really hold (hls.js
 * drops a variant whose CODECS it cannot play, and waits forever for an audio buffer that CODECS promised).
 */
import type { IFrameVariantFacts, LadderFacts, RuleViolation, VariantFacts } from './apple-rule-facts.js';
import { violation } from './apple-rule-facts.js';
import {
  formatLevel,
  h264LevelFor,
  H264_PROFILES_UP_TO_HIGH,
  hevcLevelFor,
  HEVC_PROFILES_UP_TO_MAIN10,
  parseAvcCodec,
  parseHevcCodec,
  type AppleCodecLimits,
} from '../media/codec-levels.js';

/** Base sample types HLS knows (Apple's CODECS appendix, plus the AV1/VP9/Opus entries of RFC 6381 registries). */
const VIDEO_FORMATS = new Set(['avc1', 'avc3', 'hvc1', 'hev1', 'dvh1', 'dvhe', 'av01', 'vp09', 'mjpg']);
const AUDIO_FORMATS = new Set(['mp4a', 'ac-3', 'ec-3', 'alac', 'flac', 'opus', 'apac']);
const TEXT_FORMATS = new Set(['wvtt', 'stpp']);

export type FormatKind = 'video' | 'audio' | 'text';

/** What a CODECS entry describes, from its base sample type; undefined for a format HLS does not know. */
export function formatKind(codec: string): FormatKind | undefined {
  const base = codec.split('.')[0]!.toLowerCase();
  if (VIDEO_FORMATS.has(base)) return 'video';
  if (AUDIO_FORMATS.has(base)) return 'audio';
  if (TEXT_FORMATS.has(base)) return 'text';
  return undefined;
}

/** "h264", "hevc", or the base sample type: what an I-frame rendition must share with its video rung. */
export function videoFamily(codec: string): string {
  const base = codec.split('.')[0]!.toLowerCase();
  if (base === 'avc1' || base === 'avc3') return 'h264';
  if (base === 'hvc1' || base === 'hev1') return 'hevc';
  return base;
}

export interface VideoContext {
  segmentType: 'ts' | 'fmp4';
  width?: number;
  height?: number;
  /** Absent for I-frame renditions, whose frame rate says nothing of the level the stream needs. */
  frameRate?: number;
}

/** The profile/level/container rules on one video codec string read from the segments. */
export function checkVideoCodec(
  codec: string,
  where: string,
  ctx: VideoContext,
  limits: AppleCodecLimits,
): RuleViolation[] {
  const out: RuleViolation[] = [];
  const sized = ctx.width && ctx.height && ctx.frameRate ? { w: ctx.width, h: ctx.height, fps: ctx.frameRate } : null;
  const avc = parseAvcCodec(codec);
  if (avc) {
    if (!H264_PROFILES_UP_TO_HIGH.has(avc.profileIdc)) {
      out.push(
        violation('h264-profile', where, `H.264 profile_idc ${avc.profileIdc} (${codec}) is above High`, 'media'),
      );
    }
    if (avc.levelIdc > Math.round(limits.h264MaxLevel * 10)) {
      out.push(
        violation(
          'h264-level',
          where,
          `H.264 level ${formatLevel(avc.level)} (${codec}) is above ${formatLevel(limits.h264MaxLevel)}`,
          'media',
        ),
      );
    }
    const need = sized && h264LevelFor(sized.w, sized.h, sized.fps);
    if (need && avc.levelIdc < Math.round(need * 10)) {
      out.push(levelBelow(where, codec, avc.level, need, sized));
    }
    return out;
  }
  if (codec.toLowerCase().startsWith('av01.')) return checkAv1Codec(codec, where, ctx);
  const hevc = parseHevcCodec(codec);
  if (!hevc) {
    return [violation('video-codec-string', where, `"${codec}" is not an avc1/hvc1/av01 codec string`, 'master')];
  }
  if (hevc.sampleEntry !== 'hvc1') {
    out.push(
      violation('hevc-sample-entry', where, `HEVC is tagged '${hevc.sampleEntry}' (${codec}), not 'hvc1'`, 'media'),
    );
  }
  if (ctx.segmentType !== 'fmp4') {
    out.push(
      violation('hevc-container', where, `HEVC (${codec}) is in ${ctx.segmentType} segments, not fMP4`, 'media'),
    );
  }
  if (hevc.profileSpace !== 0 || !HEVC_PROFILES_UP_TO_MAIN10.has(hevc.profileIdc)) {
    out.push(violation('hevc-profile', where, `HEVC profile ${hevc.profileIdc} (${codec}) is above Main10`, 'media'));
  }
  if (hevc.levelIdc > Math.round(limits.hevcMaxLevel * 30)) {
    out.push(
      violation(
        'hevc-level',
        where,
        `HEVC level ${formatLevel(hevc.level)} (${codec}) is above ${formatLevel(limits.hevcMaxLevel)}`,
        'media',
      ),
    );
  }
  const need = sized && hevcLevelFor(sized.w, sized.h, sized.fps);
  if (need && hevc.levelIdc < Math.round(need * 30)) {
    out.push(levelBelow(where, codec, hevc.level, need, sized));
  }
  return out;
}

/**
 * "av01.P.LLT.DD" with optional further fields (AV1-ISOBMFF "Codecs Parameter String"): profile 0-2, seq_level_idx
 * 00-31 (two digits), tier M or H, bit depth 08, 10 or 12.
 */
const AV1_CODEC = /^av01\.[0-2]\.(?:[0-2]\d|3[01])[MH]\.(?:08|10|12)(?:\.\d+)*$/;

/**
 * AV1 is in Apple's current authoring spec for fMP4 segments (decoded in hardware from A17 Pro / M3 on), with no
 * profile or level ceiling there, so only the string's form and the container are checked.
 */
function checkAv1Codec(codec: string, where: string, ctx: VideoContext): RuleViolation[] {
  if (!AV1_CODEC.test(codec)) {
    return [violation('video-codec-string', where, `"${codec}" is not an av01.P.LLT.DD codec string`, 'master')];
  }
  return ctx.segmentType === 'fmp4'
    ? []
    : [violation('video-codec-string', where, `AV1 (${codec}) is in ${ctx.segmentType} segments, not fMP4`, 'media')];
}

function levelBelow(
  where: string,
  codec: string,
  declared: number,
  need: number,
  s: { w: number; h: number; fps: number },
): RuleViolation {
  return violation(
    'level-below-content',
    where,
    `${codec} declares level ${formatLevel(declared)} but ${s.w}x${s.h}@${s.fps} needs ${formatLevel(need)}`,
    'media',
  );
}

const lower = (c: string) => c.toLowerCase();

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a.map(lower));
  const sb = new Set(b.map(lower));
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

function unknownFormats(codecs: readonly string[], where: string): RuleViolation[] {
  const unknown = codecs.filter((c) => formatKind(c) === undefined);
  return unknown.length
    ? [violation('codecs-present', where, `CODECS holds formats HLS does not know: ${unknown.join(', ')}`, 'master')]
    : [];
}

/** CODECS of one EXT-X-STREAM-INF against the video codec of its segments and the codec of its audio group. */
export function checkVariantCodecs(v: VariantFacts, f: LadderFacts): RuleViolation[] {
  if (v.codecs.length === 0) return [violation('codecs-present', v.uri, 'EXT-X-STREAM-INF has no CODECS', 'master')];
  const out = unknownFormats(v.codecs, v.uri);
  const listedVideo = v.codecs.filter((c) => formatKind(c) === 'video');
  const expectedVideo = v.videoCodec ? [v.videoCodec] : [];
  if (!sameSet(listedVideo, expectedVideo) || listedVideo.length !== expectedVideo.length) {
    out.push(
      violation(
        'codecs-video',
        v.uri,
        `CODECS lists video [${listedVideo.join(', ')}] but the segments hold [${expectedVideo.join(', ')}]`,
        'master',
      ),
    );
  }
  const group = v.audioGroup === undefined ? undefined : f.audioGroups.find((g) => g.id === v.audioGroup);
  if (v.audioGroup !== undefined && !group) return out; // audio-group-unknown says it
  const expectedAudio = [group?.codec, v.muxedAudioCodec].filter((c): c is string => c !== undefined);
  const listedAudio = v.codecs.filter((c) => formatKind(c) === 'audio');
  if (!sameSet(listedAudio, expectedAudio)) {
    const what = group ? `audio group "${group.id}" is [${expectedAudio.join(', ')}]` : 'no audio is there';
    out.push(violation('codecs-audio', v.uri, `CODECS lists audio [${listedAudio.join(', ')}] but ${what}`, 'master'));
  }
  return out;
}

/** CODECS of one EXT-X-I-FRAME-STREAM-INF: the video codec of the segments it points into, and nothing else. */
export function checkIFrameCodecs(v: IFrameVariantFacts): RuleViolation[] {
  if (v.codecs.length === 0) {
    return [violation('codecs-present', v.uri, 'EXT-X-I-FRAME-STREAM-INF has no CODECS', 'master')];
  }
  const out = unknownFormats(v.codecs, v.uri);
  const listedVideo = v.codecs.filter((c) => formatKind(c) === 'video');
  if (v.videoCodec ? !sameSet(listedVideo, [v.videoCodec]) || listedVideo.length !== 1 : listedVideo.length !== 1) {
    out.push(
      violation(
        'codecs-video',
        v.uri,
        `I-frame CODECS lists video [${listedVideo.join(', ')}] but the segments hold [${v.videoCodec ?? '?'}]`,
        'master',
      ),
    );
  }
  const audio = v.codecs.filter((c) => formatKind(c) === 'audio');
  if (audio.length) {
    out.push(violation('codecs-audio', v.uri, `an I-frame variant has no audio, CODECS lists ${audio}`, 'master'));
  }
  return out;
}
