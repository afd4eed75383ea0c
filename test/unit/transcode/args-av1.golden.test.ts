/**
 * Golden argv of AV1 rungs (issue 14): libsvtav1 on the CPU and the hardware AV1 encoders, pinned in
 * __golden__/av1-*.argv (one option per line). A change must be deliberate: review the diff of the golden file, then
 * update it with `npx vitest run test/unit/transcode/args-av1.golden.test.ts -u`. The libsvtav1 argv runs for real
 * in test/integration/av1-ladder.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { buildFfmpegArgs } from '../../../src/transcode/args/index.js';
import { svtAv1Preset } from '../../../src/transcode/args/software.js';
import { planTranscode, type PlanOptions } from '../../../src/transcode/plan.js';
import type { ValidatedJob } from '../../../src/transcode/validated-job.js';
import { ladderOf, makePlanOptions, makeSourceInfo, makeValidatedJob } from '../../helpers/plan-fixtures.js';

function argv(v: ValidatedJob, opts: PlanOptions): string[] {
  return buildFfmpegArgs(planTranscode(v, makeSourceInfo(), opts));
}

/** The argv as one line per option, easier to review than a long array. */
function pretty(args: string[]): string {
  const lines: string[] = [];
  for (const a of args) {
    if (a.startsWith('-') && !/^-\d/.test(a)) lines.push(a);
    else if (lines.length) lines[lines.length - 1] += ` ${a}`;
    else lines.push(a);
  }
  return lines.join('\n');
}

/** The values following each occurrence of `option` in argv. */
function valuesOf(args: string[], option: string): string[] {
  return args.flatMap((a, i) => (a === option ? [args[i + 1]!] : []));
}

describe('buildFfmpegArgs: AV1 rungs', () => {
  it('libsvtav1 ladder: fMP4 whatever segment_type said, fixed GOP, no scene cuts, closed-GOP key frames', async () => {
    const opts = makePlanOptions({ verified: ['libx264', 'libsvtav1'] });
    const args = argv(makeValidatedJob(ladderOf('libsvtav1'), { segmentType: 'ts' }), opts);
    expect(valuesOf(args, '-hls_segment_type')).toEqual(['fmp4']);
    expect(valuesOf(args, '-svtav1-params:v:1')).toEqual(['scd=0:irefresh-type=2:mbr=0']);
    // The GOP is the keyframe mechanism libsvtav1 honours in ffmpeg 5.1: one segment of frames (6 s at 25 fps).
    expect(valuesOf(args, '-g:v:2')).toEqual(['150']);
    expect(valuesOf(args, '-preset:v:0')).toEqual(['10']);
    // HEVC's hvc1 tag is not for AV1 (av01 is the only sample entry).
    expect(args.filter((a) => a.startsWith('-tag:v'))).toEqual([]);
    await expect(pretty(args)).toMatchFileSnapshot('./__golden__/av1-software-svtav1.argv');
  });

  it('AV1 next to H.264 rungs: the whole ladder in fMP4 so the rungs switch cleanly', () => {
    const outputs = ladderOf();
    outputs[0] = { ...outputs[0]!, codec: 'libsvtav1' };
    const args = argv(makeValidatedJob(outputs), makePlanOptions({ verified: ['libx264', 'libsvtav1'] }));
    expect(valuesOf(args, '-hls_segment_type')).toEqual(['fmp4']);
    expect(valuesOf(args, '-c:v:0')).toEqual(['libsvtav1']);
    expect(valuesOf(args, '-c:v:1')).toEqual(['libx264']);
  });

  it('maps the job preset onto SVT-AV1 presets (faster job preset, higher SVT preset)', () => {
    expect(svtAv1Preset('fast')).toBe(10);
    expect(svtAv1Preset('veryfast')).toBeGreaterThan(svtAv1Preset('fast'));
    expect(svtAv1Preset('medium')).toBeLessThan(svtAv1Preset('fast'));
    expect(svtAv1Preset('no-such-preset')).toBe(10);
  });

  it('NVIDIA: cuda decode, scale_cuda, av1_nvenc', async () => {
    const opts = makePlanOptions({ verified: ['libx264', 'av1_nvenc'], hwaccels: ['cuda'], hwDevice: '0' });
    const args = argv(makeValidatedJob(ladderOf('av1_nvenc').slice(0, 2)), opts);
    expect(valuesOf(args, '-c:v:0')).toEqual(['av1_nvenc']);
    // H.264's profile option is not passed to the AV1 encoder.
    expect(valuesOf(args, '-profile:v:0')).toEqual([]);
    await expect(pretty(args)).toMatchFileSnapshot('./__golden__/av1-nvidia.argv');
  });

  it('Intel QSV: av1_qsv', async () => {
    const opts = makePlanOptions({
      verified: ['libx264', 'av1_qsv'],
      hwaccels: ['qsv'],
      hwDevice: '/dev/dri/renderD128',
    });
    const args = argv(makeValidatedJob(ladderOf('av1_qsv').slice(0, 2)), opts);
    expect(valuesOf(args, '-hls_segment_type')).toEqual(['fmp4']);
    await expect(pretty(args)).toMatchFileSnapshot('./__golden__/av1-qsv.argv');
  });

  it('VAAPI: av1_vaapi', async () => {
    const opts = makePlanOptions({ verified: ['libx264', 'av1_vaapi'], hwaccels: ['vaapi'] });
    const args = argv(makeValidatedJob(ladderOf('av1_vaapi').slice(0, 2)), opts);
    expect(valuesOf(args, '-hls_segment_type')).toEqual(['fmp4']);
    await expect(pretty(args)).toMatchFileSnapshot('./__golden__/av1-vaapi.argv');
  });

  it('has no Apple level ceiling for AV1: a 2160p rung plans where H.264 is refused; 120 fps capped at 60 as for H.264', () => {
    const uhd = makeSourceInfo({ width: 3840, height: 2160 });
    const opts = makePlanOptions({ verified: ['libx264', 'libsvtav1'] });
    const rung = (codec: string) => makeValidatedJob([{ res: '2160p', dest: 'processed/uhd/2160p', codec }]);
    expect(planTranscode(rung('libsvtav1'), uhd, opts).renditions[0]).toMatchObject({ width: 3840, height: 2160 });
    expect(() => planTranscode(rung('libx264'), uhd, opts)).toThrow(/needs level 5\.1/);
    const fast = makeSourceInfo({ width: 1280, height: 720, fps: 120 });
    const hfr = makeValidatedJob([{ res: '720p', dest: 'processed/hfr/720p', codec: 'libsvtav1' }]);
    expect(planTranscode(hfr, fast, opts).fps).toBe(60);
  });

  it('a hardware AV1 rung the worker cannot run falls back to libsvtav1, not libx264', () => {
    const opts = makePlanOptions({ verified: ['libx264', 'libsvtav1'] });
    const plan = planTranscode(makeValidatedJob(ladderOf('av1_nvenc').slice(0, 1)), makeSourceInfo(), opts);
    expect(plan.renditions.map((r) => [r.encoder, r.family])).toEqual([['libsvtav1', 'software']]);
  });
});
