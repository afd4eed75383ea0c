/**
 * Hosts with several /dev/dri render nodes: VAAPI/QSV candidates are verified on each node, so the per-job choice
 * picks only among nodes that work (and an NVIDIA node listed first no longer hides a working Intel one).
 */
import { describe, expect, it } from 'vitest';
import { createCapabilityProber } from '../../../src/capabilities/probe.js';
import type { HostSnapshot } from '../../../src/capabilities/host.js';
import {
  INTEL_BOX,
  createFakeFfmpeg,
  fakeProberDeps,
  testRuns,
  type EncodeRequest,
  type FakeOutcome,
} from '../../helpers/capability-fakes.js';

const D128 = '/dev/dri/renderD128';
const D129 = '/dev/dri/renderD129';

const VAAPI_INIT = {
  stderr:
    '[AVHWDeviceContext @ 0x5600] Failed to initialise VAAPI connection: -1 (unknown libva error).\nDevice creation failed: -5.\n',
};

/** The render node a VAAPI test encode initialised. */
function nodeOf(req: EncodeRequest): string | undefined {
  const init = req.args.find((a) => a.startsWith('vaapi=va:'));
  return init?.slice('vaapi=va:'.length);
}

/** NVIDIA card on renderD128 (no VAAPI driver for it), Intel iGPU on renderD129 (VAAPI works there). */
const NVIDIA_PLUS_INTEL: HostSnapshot = {
  ...INTEL_BOX,
  graphics: [
    { vendor: 'NVIDIA Corporation', model: 'GeForce RTX 3060' },
    { vendor: 'Intel Corporation', model: 'UHD Graphics 770' },
  ],
  renderNodes: [
    { path: D128, vendorId: '0x10de' },
    { path: D129, vendorId: '0x8086' },
  ],
};

/** Intel iGPU and AMD card: both encode H.264 over VAAPI; only the AMD card (renderD129) does HEVC. */
const INTEL_PLUS_AMD: HostSnapshot = {
  ...INTEL_BOX,
  graphics: [
    { vendor: 'Intel Corporation', model: 'UHD Graphics 630' },
    { vendor: 'Advanced Micro Devices, Inc. [AMD/ATI]', model: 'Radeon RX 6600' },
  ],
  renderNodes: [
    { path: D128, vendorId: '0x8086' },
    { path: D129, vendorId: '0x1002' },
  ],
};

const BUILD = { encoders: ['libx264', 'h264_vaapi', 'hevc_vaapi', 'aac'], hwaccels: ['vaapi'] };

describe('probe: several render nodes', () => {
  it('an NVIDIA node listed first: VAAPI still found on the Intel node, and only that node is recorded', async () => {
    const fake = createFakeFfmpeg({
      ...BUILD,
      run: (req): FakeOutcome => (req.encoder?.endsWith('_vaapi') && nodeOf(req) === D128 ? VAAPI_INIT : 'ok'),
    });
    const { deps } = await fakeProberDeps(fake.runner, NVIDIA_PLUS_INTEL);
    const report = await createCapabilityProber(deps).probe();
    const h264 = report.encoders.find((e) => e.name === 'h264_vaapi')!;
    expect(h264).toMatchObject({ ok: true, device: D129, devices: [D129], maxResolution: '2160p' });
    expect(report.capabilities.supported_codecs).toContain('h264_vaapi');
    // The GPU that encodes is the Intel one, whatever node comes first.
    expect(report.capabilities.gpu_type).toBe('intel');
    // The session probe ran on the node that works.
    const sessions = testRuns(fake.calls).filter((r) => r.encoder === 'h264_vaapi' && r.sessions > 1);
    expect(sessions.length).toBeGreaterThan(0);
    expect(new Set(sessions.map(nodeOf))).toEqual(new Set([D129]));
  });

  it('Intel + AMD: each encoder lists the nodes it passed on', async () => {
    const fake = createFakeFfmpeg({
      ...BUILD,
      run: (req): FakeOutcome => (req.encoder === 'hevc_vaapi' && nodeOf(req) === D128 ? VAAPI_INIT : 'ok'),
    });
    const { deps } = await fakeProberDeps(fake.runner, INTEL_PLUS_AMD);
    const report = await createCapabilityProber(deps).probe();
    expect(report.encoders.find((e) => e.name === 'h264_vaapi')).toMatchObject({ ok: true, devices: [D128, D129] });
    expect(report.encoders.find((e) => e.name === 'hevc_vaapi')).toMatchObject({
      ok: true,
      device: D129,
      devices: [D129],
    });
    // Extra nodes cost one 720p frame each, not a second max-resolution search.
    const h264OnD129 = testRuns(fake.calls).filter((r) => r.encoder === 'h264_vaapi' && nodeOf(r) === D129);
    expect(h264OnD129.map((r) => r.height)).toEqual([720]);
  });

  it("fails on every node: not declared, with the first node's reason", async () => {
    const fake = createFakeFfmpeg({
      ...BUILD,
      run: (req): FakeOutcome => (req.encoder?.endsWith('_vaapi') ? VAAPI_INIT : 'ok'),
    });
    const { deps } = await fakeProberDeps(fake.runner, INTEL_PLUS_AMD);
    const report = await createCapabilityProber(deps).probe();
    const h264 = report.encoders.find((e) => e.name === 'h264_vaapi')!;
    expect(h264).toMatchObject({
      ok: false,
      device: D128,
      reason: 'Failed to initialise VAAPI connection: -1 (unknown libva error).',
    });
    expect(h264.devices).toBeUndefined();
    expect(report.capabilities.supported_codecs).not.toContain('h264_vaapi');
  });

  it('a configured vaapi_device: only that node is ever tested', async () => {
    const fake = createFakeFfmpeg({ ...BUILD });
    const { deps } = await fakeProberDeps(fake.runner, INTEL_PLUS_AMD, { vaapi_device: D129 });
    const report = await createCapabilityProber(deps).probe();
    expect(report.encoders.find((e) => e.name === 'h264_vaapi')).toMatchObject({ ok: true, device: D129 });
    const nodes = new Set(
      testRuns(fake.calls)
        .filter((r) => r.encoder?.endsWith('_vaapi'))
        .map(nodeOf),
    );
    expect(nodes).toEqual(new Set([D129]));
  });
});
