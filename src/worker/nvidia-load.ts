/**
 * The NVIDIA GPU as the owner uses it: `nvidia-smi pmon -c 1 -s u` lists each process on each GPU with its SM
 * (compute/graphics), encoder and decoder use. Other programs' GPU use over busy_cpu_percent (the only threshold the
 * worker has), or any other program's encoder session (a game recorder, a stream), is a reason to pause.
 *
 * Which processes are ours: this worker's pids (the node process and the job's ffmpeg). A row whose pid does not
 * exist here at all is another container's or the host's, seen through a pid namespace: it is not counted, so in a
 * container the GPU criterion only sees processes of the same namespace (docs/good-guest.md). Sampled every few ticks
 * (nvidia-smi itself costs tens of ms of CPU), only while a job runs, only on hosts where the probe found NVIDIA.
 */
import type { CommandRunner } from '../exec/runner.js';

export interface PmonRow {
  gpu: number;
  pid: number;
  sm: number;
  enc: number;
  command: string;
}

/** The rows of `nvidia-smi pmon -c 1 -s u` (columns found by the header's names; "-" is 0). */
export function parsePmon(stdout: string): PmonRow[] {
  const lines = stdout.split(/\r?\n/);
  const header = lines.find((l) => /^#\s*gpu\b/i.test(l));
  if (!header) return [];
  const cols = header
    .replace(/^#/, '')
    .trim()
    .split(/\s+/)
    .map((c) => c.toLowerCase());
  const at = (name: string) => cols.indexOf(name);
  const num = (v: string | undefined) => (v === undefined || v === '-' ? 0 : Number(v) || 0);
  const rows: PmonRow[] = [];
  for (const line of lines) {
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    const f = line.trim().split(/\s+/);
    const pid = Number(f[at('pid')]);
    if (!Number.isInteger(pid) || pid <= 0) continue; // "-": the GPU is idle
    rows.push({
      gpu: num(f[at('gpu')]),
      pid,
      sm: num(f[at('sm')]),
      enc: num(f[at('enc')]),
      command: f[at('command')] ?? '',
    });
  }
  return rows;
}

/** Why other programs' GPU use is over the threshold, or undefined. */
export function gpuOverReason(
  rows: readonly PmonRow[],
  isOurs: (pid: number) => boolean,
  exists: (pid: number) => boolean,
  threshold: number,
): string | undefined {
  const others = rows.filter((r) => !isOurs(r.pid) && exists(r.pid));
  const encoder = others.find((r) => r.enc > 0);
  if (encoder) return `another program uses the NVIDIA encoder (${encoder.command || 'pid'} ${encoder.pid})`;
  const byGpu = new Map<number, number>();
  for (const r of others) byGpu.set(r.gpu, (byGpu.get(r.gpu) ?? 0) + r.sm);
  for (const [gpu, sm] of byGpu)
    if (sm > threshold) return `other programs use ${sm}% of NVIDIA GPU ${gpu} (busy_cpu_percent ${threshold})`;
  return undefined;
}

const pidExists = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export interface NvidiaOwnerCheckDeps {
  runner: CommandRunner;
  nvidiaSmi?: string;
  threshold: number;
  /** Run nvidia-smi at most once per this many calls (the pauser ticks every second). Default 5. */
  every?: number;
  exists?: (pid: number) => boolean;
}

/** A gpuReason for the job pauser: the last verdict is kept between two nvidia-smi runs. */
export function createNvidiaOwnerCheck(
  deps: NvidiaOwnerCheckDeps,
): (ownPids: () => number[]) => Promise<string | undefined> {
  let calls = 0;
  let last: string | undefined;
  return async (ownPids) => {
    if (calls++ % (deps.every ?? 5) !== 0) return last;
    const r = await deps.runner(deps.nvidiaSmi ?? 'nvidia-smi', ['pmon', '-c', '1', '-s', 'u'], { timeoutMs: 5000 });
    if (r.exitCode !== 0) return (last = undefined);
    const ours = new Set([process.pid, ...ownPids()]);
    last = gpuOverReason(parsePmon(r.stdout), (pid) => ours.has(pid), deps.exists ?? pidExists, deps.threshold);
    return last;
  };
}
