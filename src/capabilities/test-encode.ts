/**
 * Runs the test encodes and decodes of one candidate through the CommandRunner: verification, max resolution,
 * concurrent sessions, hwaccel decode. Every outcome becomes data (ok + reason), never an exception, so one broken
 * encoder cannot spoil the probe of the others.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { CommandRunner } from '../exec/runner.js';
import {
  buildBatchTestArgs,
  buildHwaccelTestArgs,
  buildSampleArgs,
  buildSessionTestArgs,
  buildTestEncodeArgs,
  type HwaccelName,
  type TestDevice,
} from './encoders.js';
import { isHardwareFamily, type EncoderCandidate } from './encoder-table.js';
import { PROBE_LADDER, type Resolution } from '../media/resolutions.js';
import { formatDuration, pickReason } from './ffmpeg-output.js';
import type { EncoderCheck, HwaccelCheck } from './types.js';

export interface TestContext {
  runner: CommandRunner;
  ffmpeg: string;
  timeoutMs: number;
}

/** Sessions tried at most: a one-pass ladder of five rungs is the widest the pipeline opens at once. */
export const MAX_SESSIONS_PROBED = 5;

const R720 = PROBE_LADDER.find((r) => r.label === '720p')!;

interface Attempt {
  ok: boolean;
  reason?: string;
}

export async function runAttempt(ctx: TestContext, args: string[]): Promise<Attempt> {
  const r = await ctx.runner(ctx.ffmpeg, args, { timeoutMs: ctx.timeoutMs });
  if (r.timedOut) return { ok: false, reason: `timed out after ${formatDuration(ctx.timeoutMs)}` };
  if (r.spawnError) return { ok: false, reason: r.spawnError };
  if (r.exitCode === 0) return { ok: true };
  return { ok: false, reason: pickReason(r.stderr) ?? `ffmpeg exited with code ${r.exitCode ?? 'unknown'}` };
}

async function firstWorkingResolution(
  ctx: TestContext,
  candidate: EncoderCandidate,
  ladder: readonly Resolution[],
  device: TestDevice,
): Promise<Resolution | undefined> {
  for (const res of ladder) {
    const a = await runAttempt(ctx, buildTestEncodeArgs(candidate, res, device));
    if (a.ok) return res;
  }
  return undefined;
}

/**
 * Verifies one listed candidate and finds its max resolution.
 * - Every encoder: one 720p frame proves it works (a missing driver or a hang costs one run, not four).
 * - Hardware: then 2160p, 1440p, 1080p from the top, stopping at the first that encodes (a Pi 4 stops at 1080p);
 *   720p when none does.
 * - Software: declared at 2160p without a 4K encode. A software encoder has no device ceiling; the question for it
 *   is CPU speed, which the max_resolution setting answers. Measured here, one-frame 4K encodes of the five
 *   software encoders cost about 3.5 CPU-seconds (x265, SVT-AV1 and VP9 set up large frame pools), which alone
 *   would break the 2 s budget of the whole probe on a 2-core host.
 */
export async function checkEncoder(
  ctx: TestContext,
  candidate: EncoderCandidate,
  device: TestDevice,
): Promise<EncoderCheck> {
  const started = performance.now();
  const base = { name: candidate.name, family: candidate.family, listed: true };
  const done = (fields: Partial<EncoderCheck>): EncoderCheck => ({
    ...base,
    ok: false,
    ...(device.renderNode ? { device: device.renderNode } : {}),
    ...fields,
    durationMs: Math.round(performance.now() - started),
  });

  if (candidate.family === 'audio') {
    const a = await runAttempt(ctx, buildTestEncodeArgs(candidate, R720, device));
    return done(a.ok ? { ok: true } : { reason: a.reason });
  }
  const verify = await runAttempt(ctx, buildTestEncodeArgs(candidate, R720, device));
  if (!verify.ok) return done({ reason: verify.reason });
  if (!isHardwareFamily(candidate.family)) return done({ ok: true, maxResolution: PROBE_LADDER[0]!.label });
  const ladder = PROBE_LADDER.filter((r) => r.height > R720.height);
  const best = await firstWorkingResolution(ctx, candidate, ladder, device);
  return done({ ok: true, maxResolution: (best ?? R720).label });
}

/**
 * A VAAPI/QSV candidate on a host with several render nodes: each node gets the one-frame verification (an NVIDIA
 * node listed first must not hide the Intel one that works), the first passing node also the max-resolution search.
 * `devices` lists every node it passed on, for the per-job choice (capabilities/gpu-selector.ts).
 */
export async function checkEncoderOnNodes(
  ctx: TestContext,
  candidate: EncoderCandidate,
  nodes: readonly string[],
): Promise<EncoderCheck> {
  const started = performance.now();
  const passing: string[] = [];
  let full: EncoderCheck | undefined;
  let firstFailure: EncoderCheck | undefined;
  for (const node of nodes) {
    if (full) {
      if ((await runAttempt(ctx, buildTestEncodeArgs(candidate, R720, { renderNode: node }))).ok) passing.push(node);
      continue;
    }
    const check = await checkEncoder(ctx, candidate, { renderNode: node });
    if (check.ok) {
      full = check;
      passing.push(node);
    } else firstFailure ??= check;
  }
  const durationMs = Math.round(performance.now() - started);
  if (!full) return { ...firstFailure!, durationMs };
  return { ...full, devices: passing, durationMs };
}

/**
 * Software and audio candidates in one ffmpeg run (see buildBatchTestArgs). Returns their checks when the run
 * passed, undefined when it failed: the caller then tests each on its own, which also yields the reasons.
 */
export async function checkBatch(
  ctx: TestContext,
  candidates: readonly EncoderCandidate[],
): Promise<EncoderCheck[] | undefined> {
  if (candidates.length === 0) return [];
  const started = performance.now();
  const a = await runAttempt(ctx, buildBatchTestArgs(candidates, R720));
  if (!a.ok) return undefined;
  const durationMs = Math.round(performance.now() - started);
  return candidates.map((c) => ({
    name: c.name,
    family: c.family,
    listed: true,
    ok: true,
    // Software encoders: 2160p without a 4K encode, as in checkEncoder.
    ...(c.family === 'audio' ? {} : { maxResolution: PROBE_LADDER[0]!.label }),
    durationMs,
    batched: true,
  }));
}

/**
 * How many sessions of a hardware encoder work at once: N outputs of one process, N from MAX_SESSIONS_PROBED down.
 * One session already worked in the verification, so the answer is at least 1.
 */
export async function probeSessions(
  ctx: TestContext,
  candidate: EncoderCandidate,
  device: TestDevice,
): Promise<number> {
  for (let n = MAX_SESSIONS_PROBED; n > 1; n--) {
    const a = await runAttempt(ctx, buildSessionTestArgs(candidate, n, R720, device));
    if (a.ok) return n;
  }
  return 1;
}

/** Creates the H.264 sample the hwaccel tests decode (once per probe); returns its path or the reason it failed. */
export async function createSample(ctx: TestContext, dir: string): Promise<{ path?: string; reason?: string }> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    return { reason: `cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  const target = path.join(dir, 'probe-sample.mp4');
  const a = await runAttempt(ctx, buildSampleArgs(target));
  return a.ok ? { path: target } : { reason: `could not create the H.264 test sample: ${a.reason}` };
}

export async function checkHwaccel(
  ctx: TestContext,
  name: HwaccelName,
  sample: Promise<{ path?: string; reason?: string }>,
  device: TestDevice,
): Promise<HwaccelCheck> {
  const started = performance.now();
  const s = await sample;
  const result = s.path
    ? await runAttempt(ctx, buildHwaccelTestArgs(name, s.path, device))
    : { ok: false, reason: s.reason };
  return {
    name,
    listed: true,
    ok: result.ok,
    ...(result.reason ? { reason: result.reason } : {}),
    durationMs: Math.round(performance.now() - started),
  };
}
