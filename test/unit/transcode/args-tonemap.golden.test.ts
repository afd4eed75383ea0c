/**
 * Golden argv of every GPU tone-mapping path (plan.toneMapper), one per family and device, pinned in
 * __golden__/*.argv; and the invariant every path keeps: the picture leaves the tone map as 8-bit BT.709 limited
 * range, tagged on the frames, without the source's HDR10 side data. Update deliberately with
 * `npx vitest run test/unit/transcode/args-tonemap.golden.test.ts -u` after reviewing the diff.
 * The libplacebo path is also run for real (CPU Vulkan) in test/integration/tone-map-gpu.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ToneMapperPath } from '../../../src/capabilities/types.js';
import { buildFfmpegArgs, buildFilterGraph } from '../../../src/transcode/args/index.js';
import { planTranscode, type PlanOptions } from '../../../src/transcode/plan.js';
import type { SourceInfo } from '../../../src/transcode/types.js';
import { ladderOf, makePlanOptions, makeSourceInfo, makeValidatedJob } from '../../helpers/plan-fixtures.js';

const uhd = { codec: 'hevc', width: 3840, height: 2160, pixFmt: 'yuv420p10le', bitDepth: 10 } as const;
const pq = makeSourceInfo({ ...uhd, hdr: 'pq', colorTransfer: 'smpte2084' });
const hlg = makeSourceInfo({ ...uhd, hdr: 'hlg', colorTransfer: 'arib-std-b67' });

function pretty(args: string[]): string {
  const lines: string[] = [];
  for (const a of args) {
    if (a.startsWith('-') && !/^-\d/.test(a)) lines.push(a);
    else if (lines.length) lines[lines.length - 1] += ` ${a}`;
    else lines.push(a);
  }
  return lines.join('\n');
}

interface Case {
  name: string;
  golden: string;
  encoder: string;
  source: SourceInfo;
  opts: Partial<PlanOptions> & { verified?: string[] };
  expected: ToneMapperPath;
}

const CASES: Case[] = [
  {
    name: 'NVIDIA PQ: NVDEC, libplacebo on the same GPU (Vulkan from CUDA 1), NVENC',
    golden: 'nvidia-hdr10-libplacebo',
    encoder: 'hevc_nvenc',
    source: pq,
    opts: { hwaccels: ['cuda'], hwDevice: '1', toneMappers: ['cpu', 'libplacebo', 'opencl'] },
    expected: 'libplacebo',
  },
  {
    name: 'NVIDIA HLG without Vulkan: tonemap_opencl on an uploaded copy',
    golden: 'nvidia-hlg-opencl',
    encoder: 'h264_nvenc',
    source: hlg,
    opts: { hwaccels: ['cuda'], toneMappers: ['cpu', 'opencl'] },
    expected: 'opencl',
  },
  {
    name: 'data-centre GPU (no NVENC): NVDEC + libplacebo feeding libx264',
    golden: 'software-hdr10-nvdec-libplacebo',
    encoder: 'libx264',
    source: pq,
    opts: { hwaccels: ['cuda'], toneMappers: ['cpu', 'libplacebo'] },
    expected: 'libplacebo',
  },
  {
    name: 'QSV PQ on ffmpeg 7.1+: vpp_qsv tone mapping on the QSV frames',
    golden: 'qsv-hdr10-vpp',
    encoder: 'h264_qsv',
    source: pq,
    opts: { hwaccels: ['qsv'], hwDevice: '/dev/dri/renderD128', toneMappers: ['cpu', 'qsv', 'opencl-qsv'] },
    expected: 'qsv',
  },
  {
    name: 'QSV HLG (or PQ on 5.1): tonemap_opencl through the VAAPI child',
    golden: 'qsv-hlg-opencl',
    encoder: 'h264_qsv',
    source: hlg,
    opts: { hwaccels: ['qsv'], toneMappers: ['cpu', 'qsv', 'opencl-qsv'] },
    expected: 'opencl-qsv',
  },
  {
    name: 'VAAPI HLG: tonemap_opencl on the VAAPI frames (tonemap_vaapi maps PQ only)',
    golden: 'vaapi-hlg-opencl',
    encoder: 'h264_vaapi',
    source: hlg,
    opts: { hwaccels: ['vaapi'], toneMappers: ['cpu', 'vaapi', 'opencl-vaapi'] },
    expected: 'opencl-vaapi',
  },
];

function planOf(c: Case) {
  const opts = makePlanOptions({ ...c.opts, verified: ['libx264', 'libx265', c.encoder], maxSessions: 3 });
  return planTranscode(makeValidatedJob(ladderOf(c.encoder).slice(0, 2)), c.source, opts);
}

describe('GPU tone mapping argv per family', () => {
  it.each(CASES)('$name', async (c) => {
    const plan = planOf(c);
    expect(plan.toneMapper).toBe(c.expected);
    await expect(pretty(buildFfmpegArgs(plan))).toMatchFileSnapshot(`./__golden__/${c.golden}.argv`);
  });

  it.each(CASES)('$golden: 8-bit BT.709 tv, tagged on the frames, HDR side data dropped, before the split', (c) => {
    const head = buildFilterGraph(planOf(c)).split(';')[0]!;
    expect(head).toMatch(
      /setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv,sidedata=mode=delete:type=MASTERING_DISPLAY_METADATA,sidedata=mode=delete:type=CONTENT_LIGHT_LEVEL,split=2/,
    );
    // 8-bit out of the tone mapper: NV12 (OpenCL, VAAPI, VPP) or yuv420p (libplacebo).
    expect(head).toMatch(/format=nv12|format=yuv420p/);
    // Never the CPU chain on these paths.
    expect(head).not.toContain('zscale');
  });

  it('an upload device never sits beside VAAPI: only one -filter_hw_device in any argv', () => {
    for (const c of CASES) {
      const args = buildFfmpegArgs(planOf(c));
      expect(args.filter((a) => a === '-filter_hw_device').length).toBeLessThanOrEqual(1);
    }
  });
});
