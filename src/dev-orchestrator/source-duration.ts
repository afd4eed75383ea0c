/**
 * The duration of a job's source, read with ffprobe, for the split policy (`dev-orchestrator --split-min-duration`).
 *
 * The source is resolved like the worker does (relative to the NAS root; an absolute path only inside it) and must
 * be a regular file whose real path is inside the NAS root: a symlink that leads out of it, a folder or a device is
 * refused, so an enqueue request cannot make this process read an arbitrary file. ffprobe gets an argument array
 * and a `file:` URL, so a source named like an option or a protocol ("-i", "http:...") stays a file name.
 */
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

export class SourceDurationError extends Error {
  override name = 'SourceDurationError';
}

export interface SourceDurationOptions {
  nasRoot: string;
  ffprobePath: string;
  /** Default 30 s: a stuck NAS must not hold the enqueue answer forever. */
  timeoutMs?: number;
}

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The real path of the source inside the NAS root, or a SourceDurationError saying why it is refused. */
export async function resolveSourceFile(nasRoot: string, sourceUrl: string): Promise<string> {
  const root = await realpath(nasRoot).catch((err: NodeJS.ErrnoException) => {
    throw new SourceDurationError(`NAS root ${nasRoot} cannot be read: ${err.code ?? err.message}`);
  });
  const given = path.isAbsolute(sourceUrl) ? sourceUrl : path.join(nasRoot, sourceUrl);
  if (!isInside(path.resolve(nasRoot), path.resolve(given)) && !isInside(root, path.resolve(given)))
    throw new SourceDurationError(`source ${sourceUrl} is outside the NAS root ${nasRoot}`);
  const real = await realpath(given).catch((err: NodeJS.ErrnoException) => {
    throw new SourceDurationError(`source ${sourceUrl} cannot be read: ${err.code ?? err.message}`);
  });
  if (!isInside(root, real))
    throw new SourceDurationError(`source ${sourceUrl} leads outside the NAS root ${nasRoot} (to ${real})`);
  if (!(await stat(real)).isFile()) throw new SourceDurationError(`source ${sourceUrl} is not a regular file`);
  return real;
}

/** Seconds of the source as its container says (format.duration). */
export async function probeSourceDuration(sourceUrl: string, opts: SourceDurationOptions): Promise<number> {
  const file = await resolveSourceFile(opts.nasRoot, sourceUrl);
  const args = ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=noprint_wrappers=1:nokey=1'];
  const run = await execa(opts.ffprobePath, [...args, `file:${file}`], {
    reject: false,
    timeout: opts.timeoutMs ?? 30_000,
    stdin: 'ignore',
  });
  if (run.exitCode !== 0 || run.failed) {
    const why = String(run.stderr || run.shortMessage || `exit code ${run.exitCode}`)
      .trim()
      .split('\n')[0];
    throw new SourceDurationError(`ffprobe cannot read the duration of ${sourceUrl}: ${why}`);
  }
  const seconds = Number(String(run.stdout).trim());
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new SourceDurationError(`ffprobe gives no duration for ${sourceUrl} (${JSON.stringify(run.stdout)})`);
  return seconds;
}
