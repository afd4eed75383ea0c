/**
 * An NVIDIA GPU for the job pipeline on a host without one: an executable node script used as ffmpeg_path that
 * records every argv, and
 * - while the "GPU" is present: runs the real ffmpeg with each nvenc output turned into libx264 (NVENC-only options
 *   dropped), so the job really completes;
 * - once the GPU is "gone" (setGpuPresent(false)): answers any nvenc command the way ffmpeg does when the device
 *   disappeared (CUDA_ERROR_NO_DEVICE on stderr, exit 1), and still runs software-only commands for real.
 * Linux/macOS only (shebang + mode 755), like the other executable fakes in fake-ffmpeg.ts.
 */
import { existsSync } from 'node:fs';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** What ffmpeg 5.1 prints when NVENC cannot reach its GPU any more (nvenc.c's CHECK_CU message, then the output error). */
export const NVENC_DEVICE_GONE_STDERR =
  '[h264_nvenc @ 0x55d0c0a2e240] cuInit(0) failed -> CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected\n' +
  'Error initializing output stream 0:0 -- Error while opening encoder for output stream #0:0 - maybe incorrect parameters such as bit_rate, rate, width or height\n';

export interface EmulatedNvenc {
  /** Use as ffmpeg_path. */
  ffmpegPath: string;
  setGpuPresent(present: boolean): Promise<void>;
  /** Every argv the script was started with, oldest first. */
  calls(): Promise<string[][]>;
}

export async function writeNvencEmulatingFfmpeg(dir: string, realFfmpeg: string): Promise<EmulatedNvenc> {
  const script = path.join(dir, 'nvenc-ffmpeg.mjs');
  const goneFlag = path.join(dir, 'gpu-gone');
  const log = path.join(dir, 'nvenc-ffmpeg.calls');
  await writeFile(
    script,
    `#!${process.execPath}
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
const args = process.argv.slice(2);
appendFileSync(${JSON.stringify(log)}, JSON.stringify(args) + '\\n');
const nvenc = args.some((a) => a.endsWith('_nvenc'));
if (nvenc && existsSync(${JSON.stringify(goneFlag)})) {
  process.stderr.write(${JSON.stringify(NVENC_DEVICE_GONE_STDERR)});
  process.exit(1);
}
// NVENC-only options (and their values) that libx264 would reject or read differently.
const DROP = /^-(gpu|tune|rc|no-scenecut|forced-idr|preset)(:|$)/;
const out = [];
for (let i = 0; i < args.length; i++) {
  if (nvenc && DROP.test(args[i])) { i++; continue; }
  out.push(args[i] === 'h264_nvenc' ? 'libx264' : args[i]);
}
const r = spawnSync(${JSON.stringify(realFfmpeg)}, out, { stdio: 'inherit' });
process.exit(r.status ?? 1);
`,
  );
  await chmod(script, 0o755);
  return {
    ffmpegPath: script,
    async setGpuPresent(present) {
      if (present) await rm(goneFlag, { force: true });
      else await writeFile(goneFlag, 'gone');
    },
    async calls() {
      if (!existsSync(log)) return [];
      const text = await readFile(log, 'utf8');
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string[]);
    },
  };
}

/** The video encoders an argv uses (-c:v:N values). */
export function videoEncodersOf(argv: readonly string[]): string[] {
  return argv.flatMap((a, i) => (/^-c:v(:\d+)?$/.test(a) ? [argv[i + 1]!] : []));
}
