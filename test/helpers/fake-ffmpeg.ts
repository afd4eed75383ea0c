/**
 * Stand-ins for ffmpeg in the few cases a real one cannot be made to behave (a hang, a GPU driver error):
 * tiny node scripts run as `node script.mjs` (the runner gets process.execPath + the script as first argument).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Prints one progress block, starts a child that sleeps (to test tree kills), writes its pid, then hangs. */
export async function writeHangingFfmpeg(dir: string): Promise<{ script: string; childPidFile: string }> {
  const script = path.join(dir, 'hang.mjs');
  const childPidFile = path.join(dir, 'child.pid');
  await writeFile(
    script,
    `import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
writeFileSync(${JSON.stringify(childPidFile)}, String(child.pid));
process.stdout.write('frame=1\\nout_time_us=40000\\nspeed=N/A\\nprogress=continue\\n');
setInterval(() => process.stdout.write('frame=1\\nout_time_us=40000\\nprogress=continue\\n'), 100);
`,
  );
  return { script, childPidFile };
}

/** Writes `stderr` and exits with `code`, like ffmpeg failing to open a GPU. */
export async function writeFailingFfmpeg(dir: string, stderr: string, code = 1): Promise<string> {
  const script = path.join(dir, 'fail.mjs');
  await writeFile(script, `process.stderr.write(${JSON.stringify(stderr)});\nprocess.exit(${code});\n`);
  return script;
}

/** True while a process with this pid runs (signal 0 only checks; a zombie awaiting its reaper counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Linux: field 3 of /proc/<pid>/stat is the state; Z = exited, not yet reaped (PID 1 in a container may never reap).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

/** Polls `check` until it returns true or the deadline passes (then throws with `what`). */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * An executable node script usable as ffmpeg_path (Linux/macOS: shebang + mode 755). When any argument matches
 * `failWhenArg`, it prints `stderr` and exits 1 like ffmpeg failing on a GPU; otherwise it runs the real ffmpeg
 * with the same arguments.
 */
export async function writeGpuFailingFfmpeg(
  dir: string,
  realFfmpeg: string,
  failWhenArg: string,
  stderr: string,
): Promise<string> {
  const script = path.join(dir, 'gpu-ffmpeg.mjs');
  await writeFile(
    script,
    `#!${process.execPath}
import { spawnSync } from 'node:child_process';
const args = process.argv.slice(2);
if (args.includes(${JSON.stringify(failWhenArg)})) {
  process.stderr.write(${JSON.stringify(stderr)});
  process.exit(1);
}
const r = spawnSync(${JSON.stringify(realFfmpeg)}, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
`,
  );
  await chmod(script, 0o755);
  return script;
}

/** An executable node script usable as ffmpeg_path that prints one progress block and then hangs. */
export async function writeHangingFfmpegExecutable(dir: string): Promise<string> {
  const script = path.join(dir, 'hang-ffmpeg.mjs');
  await writeFile(
    script,
    `#!${process.execPath}
process.stdout.write('frame=1\\nout_time_us=40000\\nprogress=continue\\n');
setInterval(() => {}, 1000);
`,
  );
  await chmod(script, 0o755);
  return script;
}

/** Pids of running processes whose command line contains `needle` (Linux /proc; [] elsewhere). */
export function findProcesses(needle: string): number[] {
  if (process.platform !== 'linux') return [];
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmdline.includes(needle) && isAlive(Number(name))) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}
