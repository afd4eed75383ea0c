/**
 * transcode_worker_encoder_available{encoder}: 1 or 0 for every candidate, so a dashboard shows at a glance which
 * encoders a worker lost (a GPU that vanished) and which it never had.
 */
import type { ProbeReport } from './types.js';

export interface EncoderGauge {
  set(labels: { encoder: string }, value: number): void;
}

export function publishEncoderAvailability(gauge: EncoderGauge, report: Pick<ProbeReport, 'encoders'>): void {
  for (const e of report.encoders) gauge.set({ encoder: e.name }, e.ok ? 1 : 0);
}
