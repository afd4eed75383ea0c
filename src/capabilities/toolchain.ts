/**
 * Finds ffmpeg and ffprobe by running `-version`. A missing or broken binary is a ToolchainError whose message
 * names the path and the configuration key to fix: it is what the worker prints at start and /readyz shows.
 */
import type { Config } from '../config.js';
import { ToolchainError } from '../errors.js';
import type { CommandRunner } from '../exec/runner.js';
import { formatDuration, parseVersion, pickReason } from './ffmpeg-output.js';

export interface Tool {
  path: string;
  version: string;
}

const ENV_OF = { ffmpeg_path: 'WORKER_FFMPEG_PATH', ffprobe_path: 'WORKER_FFPROBE_PATH' } as const;

export async function checkTool(
  runner: CommandRunner,
  program: 'ffmpeg' | 'ffprobe',
  configured: string,
  timeoutMs: number,
): Promise<Tool> {
  const key = program === 'ffmpeg' ? 'ffmpeg_path' : 'ffprobe_path';
  const fix = `set ${key} (or ${ENV_OF[key]}) to the full path of a working ${program}`;
  const r = await runner(configured, ['-version'], { timeoutMs });
  if (r.spawnError) {
    throw new ToolchainError(`${program} not found at "${configured}" (${r.spawnError}): install ${program} or ${fix}`);
  }
  if (r.timedOut) {
    throw new ToolchainError(
      `${program} at "${configured}" did not answer "-version" within ${formatDuration(timeoutMs)}: ${fix}`,
    );
  }
  const version = parseVersion(r.stdout, program);
  if (r.exitCode !== 0 || !version) {
    const why = pickReason(r.stderr) ?? `exit code ${r.exitCode ?? 'unknown'}`;
    throw new ToolchainError(
      `${program} at "${configured}" does not work ("${program} -version" failed: ${why}): ${fix}`,
    );
  }
  return { path: configured, version };
}

export async function checkToolchain(
  runner: CommandRunner,
  config: Pick<Config, 'ffmpeg_path' | 'ffprobe_path'>,
  timeoutMs: number,
): Promise<{ ffmpeg: Tool; ffprobe: Tool }> {
  const [ffmpeg, ffprobe] = await Promise.allSettled([
    checkTool(runner, 'ffmpeg', config.ffmpeg_path, timeoutMs),
    checkTool(runner, 'ffprobe', config.ffprobe_path, timeoutMs),
  ]);
  // Report ffmpeg's problem first whichever answered first: it is the one that matters most.
  if (ffmpeg.status === 'rejected') throw ffmpeg.reason;
  if (ffprobe.status === 'rejected') throw ffprobe.reason;
  return { ffmpeg: ffmpeg.value, ffprobe: ffprobe.value };
}
