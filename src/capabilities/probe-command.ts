/**
 * `transcode-worker probe`: what this host would declare at registration.
 *   (default)          the capabilities JSON, exactly the registration payload's `capabilities`
 *   --verbose          a table of every candidate: ok / failed / skipped, the reason, max resolution, time taken
 *   --verbose --json   the whole probe report as JSON (for scripts)
 *   --refresh          ignore the cache in state_dir and test again
 */
import { ToolchainError, errorMessage } from '../errors.js';
import { execaRunner, type CommandRunner } from '../exec/runner.js';
import type { ReadHost } from './host.js';
import { createCapabilityProber, type ProberDeps } from './probe.js';
import type { ProbeReport } from './types.js';

export interface ProbeCommandOptions {
  config: ProberDeps['config'];
  refresh: boolean;
  verbose: boolean;
  json: boolean;
  out: NodeJS.WritableStream;
  /** Where errors go; stderr by default. */
  err?: NodeJS.WritableStream;
  runner?: CommandRunner;
  host?: ReadHost;
  workerVersion?: string;
  log?: ProberDeps['log'];
}

const quietLog = { info() {}, warn() {}, debug() {} } as unknown as ProberDeps['log'];

function cell(value: string, width: number): string {
  return value.length >= width ? value : value + ' '.repeat(width - value.length);
}

function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  // The last column (the reason) is never padded: it may be long and ends the line anyway.
  const line = (r: string[]) =>
    r
      .map((v, i) => (i === r.length - 1 ? v : cell(v, widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function resultOf(c: { ok: boolean; skipped?: boolean }): string {
  if (c.ok) return 'ok';
  return c.skipped ? 'skipped' : 'failed';
}

/** The human form of a report. Pure, so its layout is tested without running anything. */
export function formatProbeTable(report: ProbeReport): string {
  const encoders = formatTable(
    ['ENCODER', 'FAMILY', 'RESULT', 'MAX RES', 'SESSIONS', 'TIME', 'REASON'],
    report.encoders.map((e) => [
      e.name,
      e.family,
      resultOf(e),
      e.maxResolution ?? '-',
      e.maxSessions !== undefined ? String(e.maxSessions) : '-',
      // A batched check shares the one run that verified all software/audio encoders together.
      `${e.durationMs}ms${e.batched ? ' (batch)' : ''}`,
      e.reason ?? '',
    ]),
  );
  const hwaccels = formatTable(
    ['HWACCEL', 'RESULT', 'TIME', 'REASON'],
    report.hwaccels.map((h) => [h.name, resultOf(h), `${h.durationMs}ms`, h.reason ?? '']),
  );
  // A CPU driver (lavapipe) passes but jobs do not use it: say so in the result column.
  const toneMappers = formatTable(
    ['TONE MAPPER', 'RESULT', 'TIME', 'DEVICE', 'REASON'],
    (report.toneMappers ?? []).map((t) => [
      t.name,
      t.ok && t.cpuDevice ? 'ok (cpu driver, unused)' : resultOf(t),
      `${t.durationMs}ms`,
      t.device ?? '-',
      t.reason ?? '',
    ]),
  );
  const caps = report.capabilities;
  const gpus = report.gpus.length
    ? report.gpus
        .map(
          (g) =>
            `  ${g.vendor} ${g.model}${g.device ? ` (${g.device})` : ''}${g.utilizationPercent !== undefined ? ` ${g.utilizationPercent}% busy` : ''}`,
        )
        .join('\n')
    : '  none found';
  return [
    encoders,
    '',
    hwaccels,
    '',
    toneMappers,
    '',
    `GPUs:\n${gpus}`,
    '',
    `declared: ${caps.supported_codecs.join(', ')}`,
    `has_gpu: ${caps.has_gpu}, gpu_type: ${caps.gpu_type}, max_resolution: ${caps.max_resolution}, max_encode_sessions: ${caps.max_encode_sessions ?? 0}`,
    `host: ${report.host.os}/${report.host.arch}, ${report.host.cpuCores} cores (${report.host.cpuModel}), ${report.host.ramTotalMb} MB RAM${report.host.piModel ? `, ${report.host.piModel}` : ''}`,
    `ffmpeg ${report.ffmpeg.version} (${report.ffmpeg.path}), ffprobe ${report.ffprobe.version} (${report.ffprobe.path})`,
    `probe took ${report.durationMs}ms${report.fromCache ? ' (from the cache; --refresh tests again)' : ''}`,
    '',
  ].join('\n');
}

/** Runs the probe and prints it. Returns the exit code: 0, or 1 when ffmpeg/ffprobe are missing or unusable. */
export async function runProbeCommand(opts: ProbeCommandOptions): Promise<number> {
  const errOut = opts.err ?? process.stderr;
  const prober = createCapabilityProber({
    config: opts.config,
    runner: opts.runner ?? execaRunner,
    log: opts.log ?? quietLog,
    workerVersion: opts.workerVersion ?? 'unknown',
    ...(opts.host ? { host: opts.host } : {}),
  });
  let report: ProbeReport;
  try {
    report = await prober.probe({ refresh: opts.refresh });
  } catch (err) {
    if (err instanceof ToolchainError) {
      errOut.write(`error: ${err.message}\n`);
      return 1;
    }
    errOut.write(`error: capability probe failed: ${errorMessage(err)}\n`);
    return 1;
  }
  if (!opts.verbose) opts.out.write(`${JSON.stringify(report.capabilities, null, 2)}\n`);
  else if (opts.json) opts.out.write(`${JSON.stringify(report, null, 2)}\n`);
  else opts.out.write(formatProbeTable(report));
  return 0;
}
