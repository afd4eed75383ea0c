/**
 * Capability probing with the REAL ffmpeg of this CPU-only machine. The regression that matters most: Debian's
 * ffmpeg lists NVENC, QSV, VAAPI, V4L2 and OMX encoders, and none of them may be declared here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCapabilityProber, type ProberDeps } from '../../src/capabilities/probe.js';
import { runProbeCommand } from '../../src/capabilities/probe-command.js';
import type { ProbeReport } from '../../src/capabilities/types.js';
import { ToolchainError } from '../../src/errors.js';
import { execaRunner, type CommandRunner } from '../../src/exec/runner.js';
import { NVIDIA_DESKTOP, RASPBERRY_PI_4 } from '../helpers/capability-fakes.js';

const HARDWARE = /_(nvenc|qsv|vaapi|v4l2m2m|omx|amf)$/;
const log = { info() {}, warn() {}, debug() {} } as unknown as ProberDeps['log'];

function listedEncoders(): string[] {
  const out = execFileSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' });
  return [...out.matchAll(/^\s*[VAS][A-Z.]{5}\s+(\S+)/gm)].map((m) => m[1]!);
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

describe('capability probe with real ffmpeg (no GPU here)', () => {
  let stateDir: string;
  let config: ProberDeps['config'];
  let calls: string[][];
  let report: ProbeReport;
  const countingRunner: CommandRunner = (command, args, opts) => {
    calls.push([command, ...args]);
    return execaRunner(command, args, opts);
  };

  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'probe-it-'));
    config = {
      ffmpeg_path: 'ffmpeg',
      ffprobe_path: 'ffprobe',
      hwaccel: 'auto',
      vaapi_device: '',
      max_resolution: 'auto',
      probe_timeout: 20_000,
      state_dir: stateDir,
    };
    calls = [];
    report = await createCapabilityProber({ config, runner: countingRunner, log, workerVersion: '0.0.0-test' }).probe();
  });
  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('declares libx264 and aac, and no hardware encoder although ffmpeg lists them', () => {
    const caps = report.capabilities;
    expect(caps.supported_codecs).toContain('libx264');
    expect(caps.supported_codecs).toContain('aac');
    expect(caps.supported_codecs.filter((c) => HARDWARE.test(c))).toEqual([]);
    expect(caps).toMatchObject({ has_gpu: false, gpu_type: 'none', hw_decoders: [], max_encode_sessions: 0 });
    expect(caps.max_resolution).toBe('2160p');
    expect(caps.cpu_cores).toBe(os.availableParallelism());
    expect(caps.ffmpeg_version).toBe(
      /^ffmpeg version (\S+)/.exec(execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }))![1],
    );
    // What -encoders lists is reported as listed, and still not declared.
    const listed = listedEncoders();
    for (const e of report.encoders.filter((x) => HARDWARE.test(x.name))) {
      expect(e.listed).toBe(listed.includes(e.name));
      expect(e.ok).toBe(false);
      expect(e.reason).toBeTruthy();
    }
  });

  it('a second probe is served from the cache without any test encode', async () => {
    calls = [];
    const again = await createCapabilityProber({
      config,
      runner: countingRunner,
      log,
      workerVersion: '0.0.0-test',
    }).probe();
    expect(again.fromCache).toBe(true);
    expect(again.capabilities).toEqual(report.capabilities);
    expect(calls).toEqual([
      ['ffmpeg', '-version'],
      ['ffprobe', '-version'],
    ]);
  });

  it('hardware families forced to be tested (a host that claims GPUs) really fail here, with reasons', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'probe-forced-'));
    try {
      const host = {
        ...NVIDIA_DESKTOP,
        renderNodes: [{ path: '/dev/dri/renderD128', vendorId: '0x8086' }],
        videoNodes: RASPBERRY_PI_4.videoNodes,
        cpuCores: os.availableParallelism(),
      };
      const forced = await createCapabilityProber({
        config: { ...config, state_dir: dir },
        runner: execaRunner,
        log,
        workerVersion: '0.0.0-test',
        host: async () => host,
      }).probe();
      expect(forced.capabilities).toMatchObject({
        has_gpu: false,
        gpu_type: 'none',
        hw_decoders: [],
        max_encode_sessions: 0,
      });
      const tested = forced.encoders.filter((e) => e.listed && HARDWARE.test(e.name) && !e.skipped);
      expect(tested.length).toBeGreaterThan(0);
      for (const e of tested) {
        expect(e.ok).toBe(false);
        // The reason is about the missing device or driver, never about our arguments.
        expect(e.reason).not.toMatch(
          /Unrecognized option|Option not found|Invalid argument for option|No such filter/i,
        );
      }
      // The hwaccel decodes really ran on a generated sample, which is gone afterwards.
      expect(forced.hwaccels.filter((h) => h.listed && !h.skipped).length).toBeGreaterThan(0);
      expect(existsSync(path.join(dir, 'temp', 'probe-sample.mp4'))).toBe(false);
      const nvenc = forced.encoders.find((e) => e.name === 'h264_nvenc');
      if (nvenc?.listed) expect(nvenc.reason).toMatch(/libcuda|CUDA|nvenc|No NVENC|driver/i);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a missing ffmpeg is a ToolchainError naming the path and the key', async () => {
    const missing = path.join(stateDir, 'no-such-ffmpeg');
    const err = await createCapabilityProber({
      config: { ...config, ffmpeg_path: missing },
      runner: execaRunner,
      log,
      workerVersion: '0.0.0-test',
    })
      .probe()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolchainError);
    expect((err as Error).message).toContain(`ffmpeg not found at "${missing}"`);
    expect((err as Error).message).toContain('ffmpeg_path');
  });

  it('`probe` prints the capabilities JSON, the verbose table, and exits 1 without ffmpeg', async () => {
    const json = collect();
    expect(
      await runProbeCommand({
        config,
        refresh: false,
        verbose: false,
        json: false,
        out: json.stream,
        workerVersion: '0.0.0-test',
      }),
    ).toBe(0);
    expect(JSON.parse(json.text())).toEqual(report.capabilities);

    const table = collect();
    expect(
      await runProbeCommand({
        config,
        refresh: false,
        verbose: true,
        json: false,
        out: table.stream,
        workerVersion: '0.0.0-test',
      }),
    ).toBe(0);
    expect(table.text()).toContain('(from the cache; --refresh tests again)');
    expect(table.text()).toMatch(/^ENCODER\s+FAMILY\s+RESULT\s+MAX RES\s+SESSIONS\s+TIME\s+REASON$/m);
    expect(table.text()).toMatch(/^libx264\s+software\s+ok\s+2160p\s+-\s+\d+ms \(batch\)$/m);
    expect(table.text()).toMatch(/^h264_nvenc\s+nvidia\s+(skipped|failed)\s+-\s+-\s+\d+ms\s+\S/m);

    const err = collect();
    const code = await runProbeCommand({
      config: { ...config, ffmpeg_path: path.join(stateDir, 'gone') },
      refresh: true,
      verbose: false,
      json: false,
      out: collect().stream,
      err: err.stream,
    });
    expect(code).toBe(1);
    expect(err.text()).toMatch(/^error: ffmpeg not found at ".*gone".*ffmpeg_path/);
  });
});
