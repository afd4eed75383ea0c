/**
 * The environment the worker gives ffmpeg for NVIDIA work: CUDA numbers GPUs like nvidia-smi (PCI bus order), and
 * the driver's compiled-kernel cache lives in state_dir (without it every job recompiles scale_cuda's PTX: seconds
 * per job, bench/gpu-results.md). Checked on the built CLI with an ffmpeg wrapper that records its environment.
 */
import { spawnSync } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FFMPEG } from '../helpers/media.js';
import { MAIN_JS, assertBuilt, makeWorkerDirs, type WorkerDirs } from '../helpers/worker-process.js';

let dirs: WorkerDirs | undefined;
afterEach(async () => {
  await dirs?.cleanup();
  dirs = undefined;
});

async function recordingFfmpeg(dir: string, record: string): Promise<string> {
  const script = path.join(dir, 'env-ffmpeg.mjs');
  await writeFile(
    script,
    `#!${process.execPath}
import { appendFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
appendFileSync(${JSON.stringify(record)}, JSON.stringify({ cache: process.env.CUDA_CACHE_PATH, order: process.env.CUDA_DEVICE_ORDER }) + '\\n');
const r = spawnSync(${JSON.stringify(FFMPEG)}, process.argv.slice(2), { stdio: 'inherit' });
process.exit(r.status ?? 1);
`,
  );
  await chmod(script, 0o755);
  return script;
}

function probe(d: WorkerDirs, ffmpeg: string, extra: Record<string, string> = {}) {
  assertBuilt();
  return spawnSync(process.execPath, [MAIN_JS, 'probe', '--refresh'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? d.root,
      WORKER_NAS_MOUNT_PATH: d.nas,
      WORKER_TEMP_DIR: d.temp,
      WORKER_STATE_DIR: d.state,
      WORKER_FFMPEG_PATH: ffmpeg,
      WORKER_HWACCEL: 'none',
      ...extra,
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

async function recorded(file: string): Promise<{ cache?: string; order?: string }[]> {
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { cache?: string; order?: string });
}

describe.skipIf(process.platform === 'win32')('the environment ffmpeg runs in', () => {
  it('CUDA kernel cache in state_dir and PCI bus GPU order, unless the user set them', async () => {
    dirs = await makeWorkerDirs('tw-gpu-env-');
    const record = path.join(dirs.root, 'env.jsonl');
    const ffmpeg = await recordingFfmpeg(dirs.root, record);

    const r = probe(dirs, ffmpeg);
    expect(r.status, r.stderr).toBe(0);
    const seen = await recorded(record);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen.map((s) => s.cache))).toEqual(new Set([path.join(dirs.state, 'cuda-cache')]));
    expect(new Set(seen.map((s) => s.order))).toEqual(new Set(['PCI_BUS_ID']));

    await writeFile(record, '');
    const mine = path.join(dirs.root, 'my-cache');
    const again = probe(dirs, ffmpeg, { CUDA_CACHE_PATH: mine, CUDA_DEVICE_ORDER: 'FASTEST_FIRST' });
    expect(again.status, again.stderr).toBe(0);
    const kept = await recorded(record);
    expect(new Set(kept.map((s) => s.cache))).toEqual(new Set([mine]));
    expect(new Set(kept.map((s) => s.order))).toEqual(new Set(['FASTEST_FIRST']));
  });
});
