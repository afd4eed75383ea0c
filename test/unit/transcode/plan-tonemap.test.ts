/**
 * Decisions of the tone-mapping choice (transcode/plan-tonemap.ts) and how planTranscode applies them to the
 * decode: which path per family, device and transfer (PQ/HLG), the CPU fallback, rotation, and the refusal when
 * nothing verified can tone map.
 */
import { describe, expect, it } from 'vitest';
import type { ToneMapperPath } from '../../../src/capabilities/types.js';
import { JobValidationError } from '../../../src/errors.js';
import { chooseToneMapper } from '../../../src/transcode/plan-tonemap.js';
import { planTranscode } from '../../../src/transcode/plan.js';
import { ladderOf, makePlanOptions, makeSourceInfo, makeValidatedJob } from '../../helpers/plan-fixtures.js';

const ALL: ToneMapperPath[] = ['cpu', 'vaapi', 'qsv', 'opencl-vaapi', 'opencl-qsv', 'libplacebo', 'opencl'];
const pq = makeSourceInfo({ codec: 'hevc', width: 3840, height: 2160, pixFmt: 'yuv420p10le', bitDepth: 10, hdr: 'pq' });
const hlg = makeSourceInfo({
  codec: 'hevc',
  width: 3840,
  height: 2160,
  pixFmt: 'yuv420p10le',
  bitDepth: 10,
  hdr: 'hlg',
});

function plan(encoder: string, source = pq, over: Parameters<typeof makePlanOptions>[0] = {}) {
  return planTranscode(makeValidatedJob(ladderOf(encoder)), source, makePlanOptions({ verified: [encoder], ...over }));
}

describe('chooseToneMapper', () => {
  const base = { verified: ALL, rotation: 0, vaapiOrQsvEncoder: false } as const;

  it('on device frames: the device filter for PQ, OpenCL interop for HLG (tonemap_vaapi and VPP map PQ only)', () => {
    expect(chooseToneMapper({ ...base, hdr: 'pq', decode: 'vaapi' })).toEqual({ path: 'vaapi', onDevice: true });
    expect(chooseToneMapper({ ...base, hdr: 'hlg', decode: 'vaapi' })).toEqual({
      path: 'opencl-vaapi',
      onDevice: true,
    });
    expect(chooseToneMapper({ ...base, hdr: 'pq', decode: 'qsv' })).toEqual({ path: 'qsv', onDevice: true });
    expect(chooseToneMapper({ ...base, hdr: 'hlg', decode: 'qsv' })).toEqual({ path: 'opencl-qsv', onDevice: true });
    // ffmpeg 5.1: vpp_qsv has no tonemap option, so the probe did not verify 'qsv'.
    const no71 = ALL.filter((p) => p !== 'qsv');
    expect(chooseToneMapper({ ...base, verified: no71, hdr: 'pq', decode: 'qsv' }).path).toBe('opencl-qsv');
  });

  it('on CPU frames: libplacebo, then OpenCL, then the CPU chain; never an upload beside a VAAPI/QSV encoder', () => {
    expect(chooseToneMapper({ ...base, hdr: 'hlg', decode: 'cuda' }).path).toBe('libplacebo');
    expect(chooseToneMapper({ ...base, verified: ['cpu', 'opencl'], hdr: 'pq' }).path).toBe('opencl');
    expect(chooseToneMapper({ ...base, verified: ['cpu'], hdr: 'pq' })).toEqual({ path: 'cpu', onDevice: false });
    expect(chooseToneMapper({ ...base, vaapiOrQsvEncoder: true, hdr: 'pq' }).path).toBe('cpu');
    // A rotated source needs CPU frames (autorotate): no device path even on VAAPI.
    expect(chooseToneMapper({ ...base, hdr: 'pq', decode: 'vaapi', rotation: 90, vaapiOrQsvEncoder: true })).toEqual({
      path: 'cpu',
      onDevice: false,
    });
  });

  it('refuses, with a reason a person can act on, when nothing verified can tone map (no zscale, no GPU path)', () => {
    const refuse = () => chooseToneMapper({ ...base, verified: ['vaapi'], hdr: 'hlg', decode: 'vaapi' });
    expect(refuse).toThrow(JobValidationError);
    expect(refuse).toThrow(/HDR \(HLG\).*zscale filter \(libzimg\).*\(vaapi verified\)/);
    expect(() => chooseToneMapper({ ...base, verified: [], hdr: 'pq' })).toThrow(/none verified/);
  });
});

describe('planTranscode: tone mapping per family', () => {
  it('without probe data it keeps the paths used before the probe verified them (CPU chain, tonemap_vaapi)', () => {
    expect(plan('libx264')).toMatchObject({ toneMap: true, toneMapper: 'cpu', hwDecode: null });
    const va = plan('h264_vaapi', pq, { hwaccels: ['vaapi'] });
    expect(va).toMatchObject({ toneMapper: 'vaapi', hwDecode: { kind: 'vaapi', framesOnDevice: true } });
    expect(plan('h264_vaapi', hlg, { hwaccels: ['vaapi'] })).toMatchObject({
      toneMapper: 'cpu',
      hwDecode: { kind: 'vaapi', framesOnDevice: false },
    });
    expect(plan('libx264', makeSourceInfo())).not.toHaveProperty('toneMapper');
  });

  it('NVIDIA: libplacebo on the same GPU (Vulkan derived from its CUDA index), and NVDEC now decodes HDR', () => {
    const nv = plan('h264_nvenc', pq, { hwaccels: ['cuda'], hwDevice: '1', toneMappers: ['cpu', 'libplacebo'] });
    expect(nv).toMatchObject({
      toneMapper: 'libplacebo',
      toneMapDevice: { kind: 'vulkan', cudaIndex: '1' },
      hwDecode: { kind: 'cuda', device: '1', framesOnDevice: false },
    });
    // A GPU without NVENC (data-centre card): NVDEC feeds libx264 through libplacebo; with the CPU chain only,
    // decoding stays on the CPU (downloading 4K frames for the CPU chain was measured slower).
    const sw = plan('libx264', pq, { hwaccels: ['cuda'], toneMappers: ['cpu', 'opencl'] });
    expect(sw).toMatchObject({ toneMapper: 'opencl', toneMapDevice: { kind: 'opencl' }, hwDecode: { kind: 'cuda' } });
    expect(plan('libx264', pq, { hwaccels: ['cuda'], toneMappers: ['cpu'] }).hwDecode).toBeNull();
    // A rotated source: autorotate on the CPU; the GPU tone map still applies to the CPU frames.
    const rotated = makeSourceInfo({ ...pq.video!, rotation: 90 });
    expect(plan('libx264', rotated, { hwaccels: ['cuda'], toneMappers: ['cpu', 'libplacebo'] })).toMatchObject({
      toneMapper: 'libplacebo',
      hwDecode: null,
    });
  });

  it('software ladder on a host without NVIDIA: plain Vulkan device', () => {
    expect(plan('libx264', hlg, { toneMappers: ['cpu', 'libplacebo'] })).toMatchObject({
      toneMapper: 'libplacebo',
      toneMapDevice: { kind: 'vulkan' },
      hwDecode: null,
    });
  });

  it('QSV: VPP tone mapping on 7.1+, OpenCL through the VAAPI child otherwise, else CPU decode and chain', () => {
    const q = { hwaccels: ['qsv'] };
    expect(plan('h264_qsv', pq, { ...q, toneMappers: ALL })).toMatchObject({
      toneMapper: 'qsv',
      hwDecode: { kind: 'qsv', framesOnDevice: true },
    });
    expect(plan('h264_qsv', hlg, { ...q, toneMappers: ALL })).toMatchObject({
      toneMapper: 'opencl-qsv',
      hwDecode: { kind: 'qsv', framesOnDevice: true },
    });
    // Only the CPU chain: QSV frames cannot come down on 5.1, so the CPU decodes; libplacebo never sits beside a
    // QSV encoder (it owns the filter device).
    expect(plan('h264_qsv', pq, { ...q, toneMappers: ['cpu', 'libplacebo'] })).toMatchObject({
      toneMapper: 'cpu',
      hwDecode: null,
    });
    expect(plan('h264_qsv', pq, { ...q, toneMappers: ['cpu', 'libplacebo'] })).not.toHaveProperty('toneMapDevice');
  });

  it('VAAPI: HLG stays on the device through OpenCL where verified', () => {
    expect(
      plan('h264_vaapi', hlg, { hwaccels: ['vaapi'], toneMappers: ['cpu', 'vaapi', 'opencl-vaapi'] }),
    ).toMatchObject({ toneMapper: 'opencl-vaapi', hwDecode: { kind: 'vaapi', framesOnDevice: true } });
  });

  it('a build without zscale and no GPU path refuses HDR jobs before encoding, SDR jobs still plan', () => {
    expect(() => plan('libx264', pq, { toneMappers: [] })).toThrow(/no verified way to tone map/);
    expect(plan('libx264', makeSourceInfo(), { toneMappers: [] }).toneMap).toBe(false);
  });
});
