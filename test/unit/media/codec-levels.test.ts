import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appleLimitProblem,
  h264LevelFor,
  hevcLevelFor,
  parseAvcCodec,
  parseHevcCodec,
} from '../../../src/media/codec-levels.js';
import { FFMPEG, FFPROBE } from '../../helpers/media.js';

const execFileP = promisify(execFile);

describe('h264LevelFor / hevcLevelFor (level limit tables)', () => {
  it.each([
    [1280, 720, 30, 3.1],
    [1920, 1080, 30, 4], // 8160 MBs x 30 = 244800 <= 245760 MaxMBPS of 4.0
    [1920, 1080, 60, 4.2], // 489600 MB/s: over 4.1's 245760, within 4.2's 522240
    [2560, 1440, 30, 5], // 14400 MBs: over 4.2's MaxFS 8704
    [3840, 2160, 30, 5.1], // 32400 MBs: over 5.0's MaxFS 22080
    [3840, 2160, 60, 5.2],
    [8192, 64, 1, 5.1], // 512 MBs wide: each side must stay within sqrt(8 x MaxFS)
  ])('H.264 %ix%i@%i needs %s', (w, h, fps, level) => expect(h264LevelFor(w, h, fps)).toBe(level));

  it('raises the H.264 level for a bit rate above the High profile MaxBR', () => {
    expect(h264LevelFor(1920, 1080, 30, 20_000_000)).toBe(4); // 4.0 High: 25 Mbit/s
    expect(h264LevelFor(1920, 1080, 30, 40_000_000)).toBe(4.1); // 4.1 High: 62.5 Mbit/s
  });

  it.each([
    [1920, 1080, 30, 4],
    [1920, 1080, 60, 4.1],
    [3840, 2160, 30, 5], // 248832000 luma samples/s <= 5.0's 267386880
    [3840, 2160, 60, 5.1],
    [7680, 4320, 30, 6],
  ])('HEVC %ix%i@%i needs %s', (w, h, fps, level) => expect(hevcLevelFor(w, h, fps)).toBe(level));
});

describe('appleLimitProblem (a rung no encoder setting can make pass)', () => {
  it('lets H.264 through up to 1080p60 (High@4.2) and HEVC up to 2160p30 (Main10@5.0)', () => {
    expect(appleLimitProblem('h264', 1920, 1080, 30)).toBeNull();
    expect(appleLimitProblem('h264', 1920, 1080, 60)).toBeNull();
    expect(appleLimitProblem('hevc', 3840, 2160, 30)).toBeNull();
    expect(appleLimitProblem('hevc', 3840, 2160, 59.94)).not.toBeNull();
  });

  it('refuses H.264 1440p and 2160p, with the level needed and the ceiling', () => {
    expect(appleLimitProblem('h264', 2560, 1440, 30)).toMatch(/^H\.264 2560x1440@30 needs level 5\.0 .*High@4\.2/);
    expect(appleLimitProblem('h264', 3840, 2160, 30)).toBe(
      'H.264 3840x2160@30 needs level 5.1 (32400 macroblocks per frame, 972000 per second; 4.2 allows 8704, ' +
        "522240 and 62500 kbit/s), above Apple's High@4.2 (HLS authoring spec 1.3); use HEVC or a smaller size or " +
        'frame rate',
    );
  });

  it('refuses HEVC 2160p60 (level 5.1) against Main10@5.0, and frame rates above 60 for either codec', () => {
    expect(appleLimitProblem('hevc', 3840, 2160, 60)).toMatch(/^HEVC 3840x2160@60 needs level 5\.1 .*Main10@5\.0/);
    expect(appleLimitProblem('h264', 1280, 720, 120)).toMatch(/above 60 fps/);
    expect(
      appleLimitProblem('hevc', 3840, 2160, 60, undefined, { h264MaxLevel: 4.2, hevcMaxLevel: 5.1, maxFrameRate: 60 }),
    ).toBeNull();
  });

  it('counts the peak bit rate when it is given', () => {
    expect(appleLimitProblem('h264', 1920, 1080, 30, 70_000_000)).toMatch(/at 70000 kbit\/s needs level 5\.0/);
  });
});

describe('codec string decoding', () => {
  it('reads avc1.PPCCLL', () => {
    expect(parseAvcCodec('avc1.64002A')).toMatchObject({ sampleEntry: 'avc1', profileIdc: 100, levelIdc: 42 });
    expect(parseAvcCodec('avc1.42E01E')).toMatchObject({ profileIdc: 66, constraintFlags: 0xe0, levelIdc: 30 });
    expect(parseAvcCodec('avc1.100.40')).toBeUndefined();
    expect(parseAvcCodec('AVC1.640028')).toBeUndefined();
  });

  it('reads hvc1.P.C.Lnn with optional profile space, tier and constraint bytes', () => {
    expect(parseHevcCodec('hvc1.2.4.L150.B0')).toMatchObject({ profileIdc: 2, tier: 'main', levelIdc: 150, level: 5 });
    expect(parseHevcCodec('hev1.1.6.H153.90.00')).toMatchObject({ sampleEntry: 'hev1', tier: 'high', levelIdc: 153 });
    expect(parseHevcCodec('hvc1.A1.6.L93')).toMatchObject({ profileSpace: 1, profileIdc: 1 });
    expect(parseHevcCodec('hvc1.2.4')).toBeUndefined();
  });
});

/**
 * The tables against the encoders the farm runs: x264 and x265 pick the lowest level that holds the picture size
 * and frame rate (when no bit rate cap says more), which must be the level our tables give. Two frames of a flat
 * lavfi picture per case: about 5 s of CPU in all, most of it x265 setting up for 2160p.
 */
describe('the level tables agree with the levels x264 and x265 choose', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'levels-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function encodedLevel(codec: 'libx264' | 'libx265', w: number, h: number, fps: number): Promise<number> {
    const out = path.join(dir, `${codec}-${w}x${h}-${fps}.mkv`);
    const x265 = codec === 'libx265' ? ['-x265-params', 'log-level=error'] : [];
    await execFileP(FFMPEG, [
      ...['-v', 'error', '-f', 'lavfi', '-i', `color=c=gray:s=${w}x${h}:r=${fps}`, '-frames:v', '2'],
      ...['-c:v', codec, '-preset', 'ultrafast', ...x265, '-y', out],
    ]);
    const { stdout } = await execFileP(FFPROBE, [
      ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=level', '-of', 'csv=p=0', out],
    ]);
    return Number(stdout.trim());
  }

  it.each([
    ['libx264', 1920, 1080, 30],
    ['libx264', 1920, 1080, 60],
    ['libx264', 2560, 1440, 30],
    ['libx265', 3840, 2160, 30],
    ['libx265', 3840, 2160, 60],
  ] as const)('%s %ix%i@%i', { timeout: 30_000 }, async (codec, w, h, fps) => {
    const level = await encodedLevel(codec, w, h, fps);
    // ffprobe prints level_idc for H.264 (42 = 4.2) and general_level_idc for HEVC (150 = 5.0).
    if (codec === 'libx264') expect(level / 10).toBe(h264LevelFor(w, h, fps));
    else expect(level / 30).toBe(hevcLevelFor(w, h, fps));
  });
});
