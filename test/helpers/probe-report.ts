/**
 * A ProbeReport as the executor reads it (verified encoders, hwaccels, GPUs), for pipeline tests that simulate a GPU
 * host without running the probe. Each named encoder and hwaccel is "ok"; the family comes from the name.
 */
import { encoderFamilyOf } from '../../src/transcode/job-fields.js';
import type { ProbeReport } from '../../src/capabilities/types.js';

export interface SimulatedHost {
  encoders: string[];
  hwaccels?: string[];
  gpus?: { vendor: string; model: string; device: string; utilizationPercent?: number }[];
  sessions?: number;
}

export function makeProbeReport(host: SimulatedHost): ProbeReport {
  const families = host.encoders.map((name) => (name === 'aac' ? 'audio' : encoderFamilyOf(name)));
  const hardware = families.find((f) => f !== 'audio' && f !== 'software');
  return {
    capabilities: {
      supported_codecs: host.encoders,
      has_gpu: hardware !== undefined,
      gpu_type: hardware === 'nvidia' || host.hwaccels?.includes('cuda') ? 'nvidia' : 'none',
      max_resolution: '2160p',
      max_encode_sessions: hardware ? (host.sessions ?? 3) : 0,
    },
    encoders: host.encoders.map((name, i) => ({ name, family: families[i], listed: true, ok: true, durationMs: 1 })),
    hwaccels: (host.hwaccels ?? []).map((name) => ({ name, ok: true, durationMs: 1 })),
    gpus: host.gpus ?? [],
  } as unknown as ProbeReport;
}
