/**
 * GPU tone mapping for real, on the GPU this host has: none, but Debian's lavapipe (mesa-vulkan-drivers, a CPU
 * Vulkan driver, installed by scripts/setup.sh) runs ffmpeg's libplacebo filter exactly as a GPU does. So the
 * probe verifies the libplacebo path here (marked as a CPU driver, which jobs do not use), and the argv the builders
 * make for it turns a real HDR10 / HLG source into 8-bit BT.709 whose picture matches the CPU chain's (mean luma
 * and chroma within a measured tolerance) and is not washed out (unlike PQ samples shown as if they were BT.709).
 *
 * OpenCL cannot run here: Debian 12's pocl 3.1 (pocl-opencl-icd) offers no two-channel image formats, so ffmpeg's
 * OpenCL frames cannot hold NV12/P010 and tonemap_opencl (P010 in, NV12 out) fails to allocate; and the jobs' device
 * asks for a GPU OpenCL device (device_type=gpu), which pocl is not. The probe's reason for it is checked below.
 * Without a working Vulkan device (setup.sh not run), the libplacebo tests are skipped and say why.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFilterList } from '../../src/capabilities/filters.js';
import { checkToneMappers } from '../../src/capabilities/tone-mappers.js';
import { execaRunner } from '../../src/exec/runner.js';
import type { Job } from '../../src/protocol/schemas.js';
import { validateJob } from '../../src/job/validate.js';
import { buildFfmpegArgs } from '../../src/transcode/args/index.js';
import { planTranscode } from '../../src/transcode/plan.js';
import type { TranscodePlan } from '../../src/transcode/types.js';
import type { ToneMapperPath } from '../../src/capabilities/types.js';
import { readStagedLadder } from '../helpers/hls-tree.js';
import { FFMPEG, FFPROBE, makeTempDir, probeJson, removeDir, runFfmpeg } from '../helpers/media.js';
import { makePlanOptions } from '../helpers/plan-fixtures.js';
import { probeSource } from '../helpers/probe-source.js';
import { CPU_ONLY_HOST } from '../helpers/capability-fakes.js';

const ctx = { runner: execaRunner, ffmpeg: FFMPEG, timeoutMs: 60_000 };
const listing = await execaRunner(FFMPEG, ['-hide_banner', '-filters'], { timeoutMs: 20_000 });
const filters = parseFilterList(listing.stdout);
// The probe's own checks, on this host with CPU drivers allowed: the same runs a GPU host makes.
const checks = await checkToneMappers(
  ctx,
  {
    filters,
    vppQsvOptions: new Set(),
    host: CPU_ONLY_HOST,
    config: { hwaccel: 'auto', vaapi_device: '' },
    tryWithoutGpu: true,
  },
  2,
  ['cpu', 'libplacebo', 'opencl'],
);
const libplacebo = checks.find((c) => c.name === 'libplacebo')!;
const vulkan = libplacebo.ok;

let base: string;
let nas: string;
let n = 0;

beforeAll(async () => {
  base = await makeTempDir('tw-tonemap-gpu-');
  nas = path.join(base, 'nas');
  await mkdir(path.join(nas, 'movies'), { recursive: true });
});
afterAll(async () => {
  await removeDir(base);
});

interface PictureStats {
  /** Mean luma, 8-bit code values. */
  y: number;
  u: number;
  v: number;
  /** Mean saturation (chroma distance from grey). */
  sat: number;
  /** Luma spread: 90th minus 10th percentile. */
  contrast: number;
}

/** Means over the frames of a file, from ffmpeg's signalstats (8-bit scale). */
async function pictureStats(file: string): Promise<PictureStats> {
  const r = await execaRunner(
    FFMPEG,
    ['-hide_banner', '-nostdin', '-i', file, '-vf', 'signalstats,metadata=mode=print:file=-', '-f', 'null', '-'],
    { timeoutMs: 30_000 },
  );
  const avg = (key: string) => {
    const values = [...r.stdout.matchAll(new RegExp(`lavfi\\.signalstats\\.${key}=([\\d.]+)`, 'g'))].map((m) =>
      Number(m[1]),
    );
    return values.reduce((a, b) => a + b, 0) / values.length;
  };
  return { y: avg('YAVG'), u: avg('UAVG'), v: avg('VAVG'), sat: avg('SATAVG'), contrast: avg('YHIGH') - avg('YLOW') };
}

/**
 * A uniform, saturated blue at about 100 nits, coded as 10-bit BT.2020 HDR10 (with mastering metadata) or HLG:
 * a picture where a missing or broken tone map shows at once (the samples read as BT.709 are pale: saturation
 * 38 against 110 for the CPU chain, measured on 5.1). x265 writes the colour description into the VUI.
 */
async function makeHdrColour(file: string, hdr: 'pq' | 'hlg'): Promise<void> {
  const trc = hdr === 'pq' ? 'smpte2084' : 'arib-std-b67';
  const hdr10 =
    'hdr10=1:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400';
  await runFfmpeg([
    '-f', 'lavfi', '-i', 'color=c=0x4060a0:s=320x180:r=25:d=0.4',
    '-c:v', 'libx265', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p10le',
    '-color_primaries', 'bt2020', '-color_trc', trc, '-colorspace', 'bt2020nc',
    '-x265-params', `log-level=error:colorprim=bt2020:transfer=${trc}:colormatrix=bt2020nc${hdr === 'pq' ? `:${hdr10}` : ''}`,
    file,
  ]); // prettier-ignore
}

/** Plans a one-rung libx264 job on the given verified tone mappers and runs the real argv. */
async function transcode(source: string, toneMappers: ToneMapperPath[]): Promise<TranscodePlan> {
  const job: Job = {
    job_id: `tm-${++n}`,
    input: { source_url: `movies/${path.basename(source)}` },
    outputs: [{ resolution: '320x180', bitrate: '300k', codec: 'libx264', dest_path: `processed/tm-${n}/180p` }],
    hls_settings: { segment_time: 1, segment_type: 'ts' },
  };
  const v = await validateJob(job, { nasRoot: nas });
  const info = await probeSource(v.inputPath, { ffprobePath: FFPROBE, runner: execaRunner });
  const plan = planTranscode(
    v,
    info,
    makePlanOptions({ stagingDir: path.join(base, 'staging', job.job_id), softwarePreset: 'ultrafast', toneMappers }),
  );
  const r = await execaRunner(FFMPEG, buildFfmpegArgs(plan), { timeoutMs: 60_000 });
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  return plan;
}

async function firstSegment(plan: TranscodePlan): Promise<string> {
  return (await readStagedLadder(plan)).rungs[0]!.files[0]!;
}

/** The source decoded and shown as if it were BT.709: what a missing tone map looks like. */
async function washedOut(source: string): Promise<PictureStats> {
  const out = `${source}.naive.ts`;
  await runFfmpeg(['-i', source, '-vf', 'format=yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', out]);
  return pictureStats(out);
}

describe('GPU tone mapping on this host', () => {
  it('the probe runs the CPU chain and reports why OpenCL cannot run here', () => {
    expect(checks.find((c) => c.name === 'cpu')).toMatchObject({ ok: true });
    const opencl = checks.find((c) => c.name === 'opencl')!;
    expect(opencl.ok).toBe(false);
    // No GPU OpenCL device: no ICD at all, or only pocl (a CPU device, excluded by device_type=gpu).
    expect(opencl.reason).toMatch(/No matching devices found|OpenCL platforms|Device creation failed/);
  });

  it.skipIf(!vulkan)('the probe verifies libplacebo on the CPU Vulkan driver and marks it unused for jobs', () => {
    expect(libplacebo).toMatchObject({ ok: true, cpuDevice: true });
    expect(libplacebo.device).toMatch(/llvmpipe|software/);
  });

  it.skipIf(!vulkan)(
    'libplacebo argv: HDR10 and HLG become 8-bit BT.709 with the CPU chain picture, not washed out',
    async () => {
      for (const hdr of ['pq', 'hlg'] as const) {
        const source = path.join(nas, 'movies', `blue-${hdr}.mkv`);
        await makeHdrColour(source, hdr);
        const gpu = await transcode(source, ['cpu', 'libplacebo']);
        const cpu = await transcode(source, ['cpu']);
        expect([gpu.toneMapper, cpu.toneMapper]).toEqual(['libplacebo', 'cpu']);
        const gpuSeg = await firstSegment(gpu);
        const video = (await probeJson(gpuSeg)).streams.find((s) => s.codec_type === 'video')!;
        expect(video).toMatchObject({
          pix_fmt: 'yuv420p',
          color_space: 'bt709',
          color_transfer: 'bt709',
          color_primaries: 'bt709',
          color_range: 'tv',
        });
        const g = await pictureStats(gpuSeg);
        const c = await pictureStats(await firstSegment(cpu));
        const w = await washedOut(source);
        // Measured on Debian 12 (ffmpeg 5.1, lavapipe, Mesa 22.3), 8-bit means [gpu / cpu chain / washed out]:
        //   PQ:  Y 90 / 61 / 96, U 208 / 209 / 161, V 80 / 53 / 109, saturation 93 / 110 / 38
        //   HLG: Y 103 / 73 / 96, U 176 / 175 / 161, V 72 / 59 / 109, saturation 73 / 83 / 38
        // Same hue and nearly the same saturation as the CPU chain; about 30 codes brighter, by design: libplacebo
        // maps HDR reference white (203 nits, BT.2408) to SDR white, the CPU chain 100 nits (zscale npl=100).
        // Tolerances are about 1.3x the measured differences.
        const chroma = (a: PictureStats, b: PictureStats) => Math.hypot(a.u - b.u, a.v - b.v);
        expect(Math.abs(g.y - c.y), `${hdr} luma`).toBeLessThan(40);
        expect(Math.abs(g.u - c.u), `${hdr} U`).toBeLessThan(10);
        expect(Math.abs(g.v - c.v), `${hdr} V`).toBeLessThan(35);
        expect(Math.abs(g.sat - c.sat) / c.sat, `${hdr} saturation`).toBeLessThan(0.25);
        // Not washed out: far more saturated than the untouched samples, and nearer the CPU chain's colour.
        expect(g.sat, `${hdr} saturation against washed out`).toBeGreaterThan(1.5 * w.sat);
        expect(chroma(g, c), `${hdr} colour`).toBeLessThan(chroma(g, w));
      }
    },
    120_000,
  );
});
