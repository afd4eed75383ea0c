/**
 * Filter listings of real builds (5.1, 7.1, 9.0 excerpts) and the tone-mapper checks on hosts that cannot exist
 * here (NVIDIA, Intel): which paths are run, with which device options, and how outcomes become reasons. The real
 * runs on this host's CPU Vulkan are in test/integration/tone-map-gpu.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseFilterList, parseFilterOptions } from '../../../src/capabilities/filters.js';
import {
  checkToneMappers,
  parseDeviceName,
  usableToneMappers,
  type ToneMapperProbeInput,
} from '../../../src/capabilities/tone-mappers.js';
import type { HostSnapshot } from '../../../src/capabilities/host.js';
import type { CommandRunner, RunResult } from '../../../src/exec/runner.js';
import { createCapabilityProber } from '../../../src/capabilities/probe.js';
import {
  CPU_ONLY_HOST,
  INTEL_BOX,
  NVIDIA_DESKTOP,
  createFakeFfmpeg,
  fakeProberDeps,
} from '../../helpers/capability-fakes.js';

// Excerpts as the builds print them: 5.1 and 7.1 have three flag columns, 9.0 two; libplacebo is N->V from 7.1.
const FILTERS_51 = `Filters:
  T.. = Timeline support
  .S. = Slice threading
  ..C = Command support
  A = Audio input/output
  V = Video input/output
  N = Dynamic number and/or type of input/output
  | = Source or sink filter
 ... hwmap             V->V       Map hardware frames
 ... hwupload          V->V       Upload a normal frame to a hardware frame
 ..C libplacebo        V->V       Apply various GPU filters from libplacebo
 ... setparams         V->V       Force field, or color property for the output video frame.
 .S. tonemap           V->V       Conversion to/from different dynamic ranges.
 ... tonemap_opencl    V->V       Perform HDR to SDR conversion with tonemapping.
 ... tonemap_vaapi     V->V       VAAPI VPP for tone-mapping
 ... vpp_qsv           V->V       Quick Sync Video VPP.
 .SC zscale            V->V       Apply resizing, colorspace and bit depth conversion.
 ... testsrc2          |->V       Generate another test pattern.
`;
const FILTERS_90 = ` .. hwmap             V->V       Map hardware frames
 .. hwupload          V->V       Upload a normal frame to a hardware frame
 .. libplacebo        N->V       Apply various GPU filters from libplacebo
 .S tonemap           V->V       Conversion to/from different dynamic ranges.
 .. vpp_qsv           V->V       Quick Sync Video "VPP"
 .S zscale            V->V       Apply resizing, colorspace and bit depth conversion.
`;
const VPP_QSV_71 = `Filter vpp_qsv
  Quick Sync Video "VPP"
vpp_qsv AVOptions:
   deinterlace       <int>        ..FV....... deinterlace mode: 0=off, 1=bob, 2=advanced (from 0 to 2) (default 0)
     bob             1            ..FV....... Bob deinterlace mode.
   format            <string>     ..FV....... Output pixel format (default "same")
   out_color_primaries <string>     ..FV....... Output color primaries
   tonemap           <int>        ..FV....... Perform tonemapping (0=disable tonemapping, 1=perform tonemapping if the input has HDR metadata) (from 0 to 1) (default 0)
`;

describe('filter listings', () => {
  it('reads filter names from 5.1 (three flag columns) and 9.0 (two) listings, not the legend', () => {
    const f51 = parseFilterList(FILTERS_51);
    expect([...f51].sort()).toEqual(
      [
        'hwmap',
        'hwupload',
        'libplacebo',
        'setparams',
        'testsrc2',
        'tonemap',
        'tonemap_opencl',
        'tonemap_vaapi',
        'vpp_qsv',
        'zscale',
      ].sort(),
    );
    expect(parseFilterList(FILTERS_90)).toEqual(
      new Set(['hwmap', 'hwupload', 'libplacebo', 'tonemap', 'vpp_qsv', 'zscale']),
    );
  });

  it("reads a filter's options, not its enum constants; an unknown filter has none", () => {
    const opts = parseFilterOptions(VPP_QSV_71);
    expect(opts).toEqual(new Set(['deinterlace', 'format', 'out_color_primaries', 'tonemap']));
    expect(parseFilterOptions("Unknown filter 'nosuch'.\n").size).toBe(0);
  });

  it('names the device ffmpeg chose and tells a CPU driver apart', () => {
    expect(
      parseDeviceName(
        '[AVHWDeviceContext @ 0x1] [verbose] Device 0 selected: llvmpipe (LLVM 15.0.6, 256 bits) (software) (0x0)\n',
      ),
    ).toEqual({ name: 'llvmpipe (LLVM 15.0.6, 256 bits) (software)', cpu: true });
    expect(
      parseDeviceName('[AVHWDeviceContext @ 0x1] [verbose] Device 1 selected: NVIDIA H100 (discrete) (0x2330)'),
    ).toEqual({ name: 'NVIDIA H100 (discrete)', cpu: false });
    expect(parseDeviceName('[AVHWDeviceContext @ 0x1] [verbose] 0.0: NVIDIA CUDA / NVIDIA H100 80GB HBM3')).toEqual({
      name: 'NVIDIA CUDA / NVIDIA H100 80GB HBM3',
      cpu: false,
    });
  });
});

/** A runner answering every test run with `answer(args)`; records the argv. */
function fakeRunner(answer: (args: readonly string[]) => Partial<RunResult> = () => ({})) {
  const calls: string[][] = [];
  const runner: CommandRunner = async (_cmd, args) => {
    calls.push([...args]);
    return { exitCode: 0, stdout: '', stderr: '', timedOut: false, durationMs: 1, ...answer(args) };
  };
  return { runner, calls };
}

const ALL_FILTERS = new Set([...parseFilterList(FILTERS_51), 'sidedata']);

function input(host: HostSnapshot, over: Partial<ToneMapperProbeInput> = {}): ToneMapperProbeInput {
  return {
    filters: ALL_FILTERS,
    vppQsvOptions: new Set(),
    host,
    config: { hwaccel: 'auto', vaapi_device: '' },
    ...over,
  };
}

const ctx = (runner: CommandRunner) => ({ runner, ffmpeg: 'ffmpeg', timeoutMs: 5000 });
const byName = <T extends { name: string }>(list: T[]) => Object.fromEntries(list.map((c) => [c.name, c]));

describe('checkToneMappers', () => {
  it('a host without a GPU runs only the CPU chain; every GPU path says why it was skipped', async () => {
    const { runner, calls } = fakeRunner();
    const checks = byName(await checkToneMappers(ctx(runner), input(CPU_ONLY_HOST), 2));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.join(' ')).toContain('zscale=tin=smpte2084');
    expect(checks.cpu).toMatchObject({ ok: true, listed: true });
    expect(checks.libplacebo).toMatchObject({ ok: false, skipped: true, reason: 'no GPU found' });
    expect(checks.vaapi).toMatchObject({ skipped: true, reason: 'no /dev/dri render node' });
    expect(checks.qsv).toMatchObject({ skipped: true, listed: false, reason: /tonemap option.*7\.1/ });
  });

  it('a build without zscale (minimal, Windows): the CPU chain is reported missing, not run', async () => {
    const { runner, calls } = fakeRunner();
    const filters = new Set([...ALL_FILTERS].filter((f) => f !== 'zscale'));
    const checks = byName(await checkToneMappers(ctx(runner), input(CPU_ONLY_HOST, { filters }), 2));
    expect(calls).toHaveLength(0);
    expect(checks.cpu).toMatchObject({ ok: false, listed: false, reason: /no zscale in ffmpeg -filters/ });
    expect(usableToneMappers(Object.values(checks))).toEqual([]);
  });

  it('NVIDIA: Vulkan derived from the CUDA device, OpenCL on a GPU device only; failures keep the error line', async () => {
    const { runner, calls } = fakeRunner((args) =>
      args.join(' ').includes('opencl=ocl')
        ? {
            exitCode: 1,
            stderr:
              '[AVHWDeviceContext @ 0x5] [error] No matching devices found.\n[fatal] Error parsing global options: No such device\n',
          }
        : {
            stderr:
              '[AVHWDeviceContext @ 0x5] [verbose] Device 0 selected: NVIDIA GeForce RTX 3060 (discrete) (0x2504)\n',
          },
    );
    const checks = byName(await checkToneMappers(ctx(runner), input(NVIDIA_DESKTOP), 2));
    const vk = calls.find((c) => c.join(' ').includes('libplacebo'))!;
    expect(vk.slice(vk.indexOf('-init_hw_device'), vk.indexOf('-f'))).toEqual([
      '-init_hw_device', 'cuda=cu:0', '-init_hw_device', 'vulkan=vk@cu', '-filter_hw_device', 'vk',
    ]); // prettier-ignore
    expect(checks.libplacebo).toMatchObject({ ok: true, device: 'NVIDIA GeForce RTX 3060 (discrete)' });
    expect(checks.libplacebo).not.toHaveProperty('cpuDevice');
    expect(checks.opencl).toMatchObject({ ok: false, reason: 'No matching devices found.' });
    // The NVIDIA render node is not an Intel/AMD VAAPI device, but VAAPI is tried there as for encoders.
    expect(usableToneMappers(Object.values(checks))).toContain('libplacebo');
  });

  it('Intel: tonemap_vaapi and OpenCL interop on the render node; vpp_qsv tone mapping only where the option exists', async () => {
    const { runner, calls } = fakeRunner();
    const old = byName(await checkToneMappers(ctx(runner), input(INTEL_BOX), 2));
    expect(old.qsv).toMatchObject({ skipped: true, listed: false });
    const vaapi = calls.find((c) => c.join(' ').includes('tonemap_vaapi'))!;
    expect(vaapi).toContain('vaapi=va:/dev/dri/renderD128');
    expect(vaapi[vaapi.indexOf('-vf') + 1]).toMatch(/hwupload,tonemap_vaapi=.*,setparams=.*,sidedata=.*hwdownload/);
    const interop = calls.find((c) => c.join(' ').includes('qsv=qs@va') && c.join(' ').includes('tonemap_opencl'))!;
    expect(interop[interop.indexOf('-vf') + 1]).toContain('hwmap=derive_device=opencl:mode=read,tonemap_opencl=');
    const { runner: r71, calls: c71 } = fakeRunner();
    const vpp = parseFilterOptions(VPP_QSV_71);
    const new71 = byName(await checkToneMappers(ctx(r71), input(INTEL_BOX, { vppQsvOptions: vpp }), 2));
    expect(new71.qsv).toMatchObject({ ok: true, device: '/dev/dri/renderD128' });
    expect(c71.some((c) => c.join(' ').includes('vpp_qsv=tonemap=1'))).toBe(true);
  });

  it('hwaccel=none skips every GPU path; a CPU Vulkan driver passes but is not used for jobs', async () => {
    const { runner } = fakeRunner(() => ({
      stderr:
        '[AVHWDeviceContext @ 0x1] [verbose] Device 0 selected: llvmpipe (LLVM 15.0.6, 256 bits) (software) (0x0)\n',
    }));
    const none = await checkToneMappers(
      ctx(runner),
      input(INTEL_BOX, { config: { hwaccel: 'none', vaapi_device: '' } }),
      2,
    );
    expect(none.filter((c) => c.name !== 'cpu').every((c) => c.skipped)).toBe(true);
    const cpuVk = byName(await checkToneMappers(ctx(runner), input(CPU_ONLY_HOST, { tryWithoutGpu: true }), 2));
    expect(cpuVk.libplacebo).toMatchObject({ ok: true, cpuDevice: true });
    expect(usableToneMappers(Object.values(cpuVk))).not.toContain('libplacebo');
    expect(usableToneMappers(undefined)).toBeUndefined();
  });
});

describe('the probe with tone mappers', () => {
  /** A 7.1-like build on an Intel box: the fake encoders, plus the filter listings; tonemap_vaapi fails once asked. */
  function intelBuild(vaapiFails: () => boolean) {
    const fake = createFakeFfmpeg({ encoders: ['libx264', 'h264_vaapi', 'aac'], hwaccels: ['vaapi'] });
    const calls: string[][] = [];
    const runner: CommandRunner = async (cmd, args, opts) => {
      calls.push([...args]);
      if (args.includes('-filters'))
        return { exitCode: 0, stdout: FILTERS_51, stderr: '', timedOut: false, durationMs: 1 };
      if (args.includes('filter=vpp_qsv'))
        return { exitCode: 0, stdout: VPP_QSV_71, stderr: '', timedOut: false, durationMs: 1 };
      if (args.join(' ').includes('tonemap_vaapi') && vaapiFails())
        return {
          exitCode: 1,
          stdout: '',
          stderr: '[error] Failed to create VAAPI device\n',
          timedOut: false,
          durationMs: 1,
        };
      return fake.runner(cmd, args, opts);
    };
    return { runner, calls };
  }

  it("reports every path, keeps them in the cache, and re-checks a family's paths after a device error", async () => {
    let broken = false;
    const { runner, calls } = intelBuild(() => broken);
    const { deps } = await fakeProberDeps(runner, INTEL_BOX);
    const first = await createCapabilityProber(deps).probe();
    const names = (first.toneMappers ?? []).filter((t) => t.ok).map((t) => t.name);
    // sidedata is absent from this listing but is not required; every path whose filters exist ran.
    expect(names.sort()).toEqual(['cpu', 'libplacebo', 'opencl', 'opencl-qsv', 'opencl-vaapi', 'qsv', 'vaapi']);
    expect(calls.filter((c) => c.includes('filter=vpp_qsv'))).toHaveLength(1);

    const cached = await createCapabilityProber(deps).probe();
    expect(cached.fromCache).toBe(true);
    expect(cached.toneMappers).toEqual(first.toneMappers);

    broken = true;
    calls.length = 0;
    const prober = createCapabilityProber(deps);
    const again = await prober.reprobeFamily('vaapi');
    expect(again.toneMappers?.find((t) => t.name === 'vaapi')).toMatchObject({
      ok: false,
      reason: 'Failed to create VAAPI device',
    });
    // Only the VAAPI family's tone-mapping paths ran again.
    const toneRuns = calls.filter((c) => c.includes('level+verbose')).map((c) => c[c.indexOf('-vf') + 1]!);
    expect(toneRuns).toHaveLength(2);
    expect(toneRuns.every((vf) => vf.includes('hwupload,') && !vf.includes('vpp_qsv'))).toBe(true);
  });
});
