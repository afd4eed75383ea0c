/**
 * H.264 and HEVC levels: which level a picture size and frame rate need (the codec standards' level limit tables),
 * what an RFC 6381 codec string declares, and whether a rung can fit Apple's profile/level ceiling at all. Pure.
 *
 * Apple's ceilings (HLS Authoring Specification for Apple Devices): the editions the issue follows say "1.3. Profile
 * and Level for H.264 MUST be less than or equal to High Profile, Level 4.2" and "1.6. Profile, Level, and Tier for
 * HEVC MUST be less than or equal to Main10 Profile, Level 5.0, High Tier". The current edition relaxes them to
 * High@5.2 (1.3b) and Main10@5.1 High tier (1.6b) while asking that some variants stay at or below H.264 4.1 (1.3a)
 * and HEVC Main10 4.0 Main tier (1.6a). We keep the older, stricter ceilings: they are what every Apple device of
 * the last decade decodes. APPLE_LIMITS is the one place to change that.
 */

export interface AppleCodecLimits {
  /** Highest H.264 level as a number (4.2 = level_idc 42). */
  h264MaxLevel: number;
  /** Highest HEVC level as a number (5 = general_level_idc 150). */
  hevcMaxLevel: number;
  /** Apple 1.19: "Frame rates above 60 fps SHALL NOT be used." */
  maxFrameRate: number;
}

export const APPLE_LIMITS: AppleCodecLimits = { h264MaxLevel: 4.2, hevcMaxLevel: 5, maxFrameRate: 60 };

/**
 * The limits of each hls_codec_limits setting: "strict" (the and Apple's earlier editions), "current"
 * (Apple's current edition: H.264 High@5.2 MUST, HEVC Main10@5.1 High tier MUST), "off" (no level checked; the
 * frame-rate cap stays, as every Apple device needs it).
 */
export const CODEC_LIMITS: Readonly<Record<'strict' | 'current' | 'off', AppleCodecLimits>> = {
  strict: APPLE_LIMITS,
  current: { h264MaxLevel: 5.2, hevcMaxLevel: 5.1, maxFrameRate: 60 },
  off: { h264MaxLevel: 6.2, hevcMaxLevel: 6.2, maxFrameRate: 60 },
};

/** H.264 profile_idc values at or below High: Baseline (incl. Constrained Baseline), Main, High. */
export const H264_PROFILES_UP_TO_HIGH: ReadonlyMap<number, string> = new Map([
  [66, 'Baseline'],
  [77, 'Main'],
  [100, 'High'],
]);

/** HEVC general_profile_idc values at or below Main10. */
export const HEVC_PROFILES_UP_TO_MAIN10: ReadonlyMap<number, string> = new Map([
  [1, 'Main'],
  [2, 'Main 10'],
]);

interface H264Level {
  level: number;
  /** Max macroblocks per second. */
  maxMbps: number;
  /** Max frame size in macroblocks. */
  maxFs: number;
  /** Max video bit rate in kbit/s for Baseline/Main (High multiplies by cpbBrVclFactor 1250/1000). */
  maxBr: number;
}

/** ITU-T H.264 Table A-1 (level 1b left out: it is never what a ladder rung needs). */
const H264_LEVELS: readonly H264Level[] = [
  { level: 1, maxMbps: 1485, maxFs: 99, maxBr: 64 },
  { level: 1.1, maxMbps: 3000, maxFs: 396, maxBr: 192 },
  { level: 1.2, maxMbps: 6000, maxFs: 396, maxBr: 384 },
  { level: 1.3, maxMbps: 11880, maxFs: 396, maxBr: 768 },
  { level: 2, maxMbps: 11880, maxFs: 396, maxBr: 2000 },
  { level: 2.1, maxMbps: 19800, maxFs: 792, maxBr: 4000 },
  { level: 2.2, maxMbps: 20250, maxFs: 1620, maxBr: 4000 },
  { level: 3, maxMbps: 40500, maxFs: 1620, maxBr: 10000 },
  { level: 3.1, maxMbps: 108000, maxFs: 3600, maxBr: 14000 },
  { level: 3.2, maxMbps: 216000, maxFs: 5120, maxBr: 20000 },
  { level: 4, maxMbps: 245760, maxFs: 8192, maxBr: 20000 },
  { level: 4.1, maxMbps: 245760, maxFs: 8192, maxBr: 50000 },
  { level: 4.2, maxMbps: 522240, maxFs: 8704, maxBr: 50000 },
  { level: 5, maxMbps: 589824, maxFs: 22080, maxBr: 135000 },
  { level: 5.1, maxMbps: 983040, maxFs: 36864, maxBr: 240000 },
  { level: 5.2, maxMbps: 2073600, maxFs: 36864, maxBr: 240000 },
  { level: 6, maxMbps: 4177920, maxFs: 139264, maxBr: 240000 },
  { level: 6.1, maxMbps: 8355840, maxFs: 139264, maxBr: 480000 },
  { level: 6.2, maxMbps: 16711680, maxFs: 139264, maxBr: 800000 },
];

interface HevcLevel {
  level: number;
  /** Max luma picture size in samples (Table A.8). */
  maxLumaPs: number;
  /** Max luma sample rate in samples/s (Table A.9). */
  maxLumaSr: number;
  /** Max bit rate in kbit/s, High tier where the level has one (Main tier below level 4). */
  maxBrHigh: number;
}

/** ITU-T H.265 Tables A.8 and A.9 (general tier and level limits). */
const HEVC_LEVELS: readonly HevcLevel[] = [
  { level: 1, maxLumaPs: 36864, maxLumaSr: 552960, maxBrHigh: 128 },
  { level: 2, maxLumaPs: 122880, maxLumaSr: 3686400, maxBrHigh: 1500 },
  { level: 2.1, maxLumaPs: 245760, maxLumaSr: 7372800, maxBrHigh: 3000 },
  { level: 3, maxLumaPs: 552960, maxLumaSr: 16588800, maxBrHigh: 6000 },
  { level: 3.1, maxLumaPs: 983040, maxLumaSr: 33177600, maxBrHigh: 10000 },
  { level: 4, maxLumaPs: 2228224, maxLumaSr: 66846720, maxBrHigh: 30000 },
  { level: 4.1, maxLumaPs: 2228224, maxLumaSr: 133693440, maxBrHigh: 50000 },
  { level: 5, maxLumaPs: 8912896, maxLumaSr: 267386880, maxBrHigh: 100000 },
  { level: 5.1, maxLumaPs: 8912896, maxLumaSr: 534773760, maxBrHigh: 160000 },
  { level: 5.2, maxLumaPs: 8912896, maxLumaSr: 1069547520, maxBrHigh: 240000 },
  { level: 6, maxLumaPs: 35651584, maxLumaSr: 1069547520, maxBrHigh: 240000 },
  { level: 6.1, maxLumaPs: 35651584, maxLumaSr: 2139095040, maxBrHigh: 480000 },
  { level: 6.2, maxLumaPs: 35651584, maxLumaSr: 4278190080, maxBrHigh: 800000 },
];

/** High profile's cpbBrVclFactor (1250) over Baseline/Main's (1000), H.264 Table A-2. */
const H264_HIGH_BR_FACTOR = 1.25;

/**
 * Lowest H.264 level (4, 4.2, 5.1, ...) whose limits hold a width x height picture at fps frames per second (and
 * maxBitrate bits/s for High profile, when given); undefined when none does. Macroblocks are 16x16: 1920x1080 is
 * 120x68 = 8160 MBs. Each side in MBs must also stay within sqrt(8 x MaxFS) (A.3.1 h/i).
 */
export function h264LevelFor(width: number, height: number, fps: number, maxBitrate?: number): number | undefined {
  const wMbs = Math.ceil(width / 16);
  const hMbs = Math.ceil(height / 16);
  const fs = wMbs * hMbs;
  const found = H264_LEVELS.find(
    (l) =>
      fs <= l.maxFs &&
      Math.max(wMbs, hMbs) <= Math.sqrt(8 * l.maxFs) &&
      fs * fps <= l.maxMbps &&
      (maxBitrate === undefined || maxBitrate <= l.maxBr * 1000 * H264_HIGH_BR_FACTOR),
  );
  return found?.level;
}

/**
 * Lowest HEVC level whose limits hold a width x height picture at fps (and maxBitrate bits/s in the High tier, which
 * Apple allows, when given); undefined when none does. Each side must stay within sqrt(8 x MaxLumaPs) (A.4.1).
 */
export function hevcLevelFor(width: number, height: number, fps: number, maxBitrate?: number): number | undefined {
  const ps = width * height;
  const found = HEVC_LEVELS.find(
    (l) =>
      ps <= l.maxLumaPs &&
      Math.max(width, height) <= Math.sqrt(8 * l.maxLumaPs) &&
      ps * fps <= l.maxLumaSr &&
      (maxBitrate === undefined || maxBitrate <= l.maxBrHigh * 1000),
  );
  return found?.level;
}

/** "4.2" for 4.2, "5.0" for 5: the way levels are written. */
export function formatLevel(level: number): string {
  return level.toFixed(1);
}

/**
 * Why a rung can never pass Apple's ceiling whatever the encoder does, or null when it can: the picture size and
 * frame rate (and peak bit rate, when given) need a level above the ceiling, or the frame rate is above 60.
 * For the plan, before encoding: e.g. H.264 3840x2160 needs level 5.1 (32400 MBs per frame; 4.2 allows 8704).
 * AV1 has the frame-rate rule only: Apple's spec lists AV1 in fMP4 without a level ceiling (devices with AV1
 * decode, from the iPhone 15 Pro and M3 Macs on, decode the levels a ladder uses).
 */
export function appleLimitProblem(
  codec: 'h264' | 'hevc' | 'av1',
  width: number,
  height: number,
  fps: number,
  maxBitrate?: number,
  limits: AppleCodecLimits = APPLE_LIMITS,
): string | null {
  const rate = maxBitrate === undefined ? '' : ` at ${Math.round(maxBitrate / 1000)} kbit/s`;
  const size = `${width}x${height}@${Number(fps.toFixed(3))}${rate}`;
  if (fps > limits.maxFrameRate) {
    return `${size}: frame rates above ${limits.maxFrameRate} fps are not allowed (Apple HLS authoring spec 1.19)`;
  }
  if (codec === 'av1') return null;
  if (codec === 'h264') {
    const need = h264LevelFor(width, height, fps, maxBitrate);
    if (need !== undefined && need <= limits.h264MaxLevel) return null;
    const mbs = Math.ceil(width / 16) * Math.ceil(height / 16);
    const cap = H264_LEVELS.find((l) => l.level === limits.h264MaxLevel);
    const allows = cap
      ? `; ${formatLevel(cap.level)} allows ${cap.maxFs}, ${cap.maxMbps} and ${cap.maxBr * H264_HIGH_BR_FACTOR} kbit/s`
      : '';
    return (
      `H.264 ${size} needs level ${need === undefined ? 'above 6.2' : formatLevel(need)} ` +
      `(${mbs} macroblocks per frame, ${Math.round(mbs * fps)} per second${allows}), above Apple's High@` +
      `${formatLevel(limits.h264MaxLevel)} (HLS authoring spec 1.3); use HEVC or a smaller size or frame rate`
    );
  }
  const need = hevcLevelFor(width, height, fps, maxBitrate);
  if (need !== undefined && need <= limits.hevcMaxLevel) return null;
  const cap = HEVC_LEVELS.find((l) => l.level === limits.hevcMaxLevel);
  const allows = cap
    ? `; ${formatLevel(cap.level)} allows ${cap.maxLumaPs}, ${cap.maxLumaSr} and ${cap.maxBrHigh} kbit/s`
    : '';
  return (
    `HEVC ${size} needs level ${need === undefined ? 'above 6.2' : formatLevel(need)} ` +
    `(${width * height} luma samples per frame, ${Math.round(width * height * fps)} per second${allows}), ` +
    `above Apple's ` +
    `Main10@${formatLevel(limits.hevcMaxLevel)} High tier (HLS authoring spec 1.6); use a smaller size or frame rate`
  );
}

export interface AvcCodec {
  sampleEntry: 'avc1' | 'avc3';
  profileIdc: number;
  constraintFlags: number;
  levelIdc: number;
  /** level_idc / 10 (level 1b, level_idc 11 with constraint_set3, reads as 1.1: close enough for a ceiling). */
  level: number;
}

/** Decodes "avc1.PPCCLL" (RFC 6381 3.3: profile_idc, constraint flags, level_idc as hex); undefined if malformed. */
export function parseAvcCodec(codec: string): AvcCodec | undefined {
  const m = /^(avc1|avc3)\.([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})$/.exec(codec);
  if (!m) return undefined;
  const levelIdc = parseInt(m[4]!, 16);
  return {
    sampleEntry: m[1] as 'avc1' | 'avc3',
    profileIdc: parseInt(m[2]!, 16),
    constraintFlags: parseInt(m[3]!, 16),
    levelIdc,
    level: levelIdc / 10,
  };
}

export interface HevcCodec {
  sampleEntry: 'hvc1' | 'hev1';
  /** 0 when absent, 1..3 for the letters A..C. */
  profileSpace: number;
  profileIdc: number;
  tier: 'main' | 'high';
  levelIdc: number;
  /** general_level_idc / 30 (150 -> 5). */
  level: number;
}

/**
 * Decodes "hvc1.P.C.Lxxx[.B0...]" (ISO/IEC 14496-15 Annex E: profile space + profile_idc, compatibility flags in
 * hex, tier letter + general_level_idc, up to six constraint bytes); undefined if malformed.
 */
export function parseHevcCodec(codec: string): HevcCodec | undefined {
  const m = /^(hvc1|hev1)\.([ABC]?)(\d+)\.[0-9a-fA-F]{1,8}\.([LH])(\d+)(\.[0-9a-fA-F]{1,2}){0,6}$/.exec(codec);
  if (!m) return undefined;
  const levelIdc = Number(m[5]);
  return {
    sampleEntry: m[1] as 'hvc1' | 'hev1',
    profileSpace: m[2] ? m[2].charCodeAt(0) - 64 : 0,
    profileIdc: Number(m[3]),
    tier: m[4] === 'H' ? 'high' : 'main',
    levelIdc,
    level: levelIdc / 30,
  };
}
