/**
 * `transcode-worker probe` output forms, on a simulated NVIDIA desktop (the encoder metric: e2e/lifecycle.test.ts).
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runProbeCommand } from '../../../src/capabilities/probe-command.js';
import { NVIDIA_DESKTOP, createFakeFfmpeg, fakeProberDeps } from '../../helpers/capability-fakes.js';

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

async function setup() {
  const fake = createFakeFfmpeg({
    encoders: ['libx264', 'h264_nvenc', 'aac'],
    hwaccels: ['cuda'],
    run: (req) =>
      req.sessions > 2 ? { stderr: '[h264_nvenc @ 0x1] OpenEncodeSessionEx failed: out of memory (10)\n' } : 'ok',
  });
  const { deps } = await fakeProberDeps(fake.runner, NVIDIA_DESKTOP);
  const base = { config: deps.config, runner: fake.runner, host: deps.host!, workerVersion: '1.2.3', refresh: false };
  return { base };
}

describe('probe command', () => {
  it('prints the registration capabilities by default', async () => {
    const { base } = await setup();
    const out = sink();
    expect(await runProbeCommand({ ...base, verbose: false, json: false, out: out.stream })).toBe(0);
    expect(JSON.parse(out.text())).toEqual({
      supported_codecs: ['libx264', 'h264_nvenc', 'aac'],
      has_gpu: true,
      gpu_type: 'nvidia',
      max_resolution: '2160p',
      cpu_arch: 'x64',
      cpu_cores: 16,
      cpu_model: 'AMD Ryzen 7 5800X',
      ram_total_mb: 32000,
      hw_decoders: ['cuda'],
      max_encode_sessions: 2,
      ffmpeg_version: '6.1.1',
      worker_version: '1.2.3',
    });
  });

  it('--verbose prints every candidate with result, max resolution, sessions, time and reason', async () => {
    const { base } = await setup();
    const out = sink();
    expect(await runProbeCommand({ ...base, verbose: true, json: false, out: out.stream })).toBe(0);
    const text = out.text();
    expect(text).toMatch(/^h264_nvenc\s+nvidia\s+ok\s+2160p\s+2\s+\d+ms$/m);
    expect(text).toMatch(/^hevc_nvenc\s+nvidia\s+skipped\s+-\s+-\s+0ms\s+not compiled into this ffmpeg/m);
    expect(text).toMatch(/^cuda\s+ok\s+\d+ms$/m);
    // Tone mappers: this fake build lists no filters, so every path says what is missing.
    expect(text).toMatch(/^TONE MAPPER\s+RESULT\s+TIME\s+DEVICE\s+REASON$/m);
    expect(text).toMatch(
      /^cpu\s+skipped\s+0ms\s+-\s+not compiled into this ffmpeg \(no zscale, tonemap in ffmpeg -filters\)$/m,
    );
    expect(text).toContain('NVIDIA NVIDIA GeForce RTX 3060 (0) 7% busy');
    expect(text).toContain('has_gpu: true, gpu_type: nvidia, max_resolution: 2160p, max_encode_sessions: 2');

    const json = sink();
    expect(await runProbeCommand({ ...base, verbose: true, json: true, out: json.stream })).toBe(0);
    const report = JSON.parse(json.text());
    expect(report.fromCache).toBe(true);
    expect(report.encoders.find((e: { name: string }) => e.name === 'h264_nvenc').maxSessions).toBe(2);
  });
});
