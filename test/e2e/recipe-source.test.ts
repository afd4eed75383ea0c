/**
 * Black-box: `transcode-worker run-job job.json` (the built CLI) given a "video" that is really an HLS playlist
 * naming a video outside the NAS (issue 9 item 3). Before the fix the outside video was transcoded and published;
 * now the job fails with the reason, exit 1, and the NAS is exactly as it was.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { snapshotTree } from '../helpers/fs-snapshot.js';
import { makeSource } from '../helpers/media.js';
import { ladderJob } from '../helpers/pipeline-harness.js';
import { MAIN_JS, assertBuilt, makeWorkerDirs, workerEnv, type WorkerDirs } from '../helpers/worker-process.js';

let dirs: WorkerDirs | undefined;
afterEach(async () => {
  await dirs?.cleanup();
  dirs = undefined;
});

function runJob(jobFile: string, d: WorkerDirs): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN_JS, 'run-job', jobFile], {
    cwd: d.root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? d.root,
      ...workerEnv(d, 'http://127.0.0.1:9'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('run-job (built CLI) with a playlist for a source', () => {
  it('exit 1, FAILED with the reason, nothing published, the outside video not transcoded', async () => {
    assertBuilt();
    const d = (dirs = await makeWorkerDirs('tw-recipe-'));
    const outside = path.join(d.root, 'outside');
    await mkdir(outside, { recursive: true });
    const secret = await makeSource(outside, { name: 'secret.ts', duration: 2 });
    await mkdir(path.join(d.nas, 'movies'), { recursive: true });
    await writeFile(
      path.join(d.nas, 'movies', 'a.mkv'),
      `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n${secret}\n#EXT-X-ENDLIST\n`,
    );
    const job = ladderJob('movies/a.mkv', [['320x180', '300k', 'out/a/180p']]);
    const jobFile = path.join(d.root, 'job.json');
    await writeFile(jobFile, JSON.stringify(job));
    const before = await snapshotTree(d.nas);

    const r = await runJob(jobFile, d);
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: 'FAILED',
      error_msg: expect.stringMatching(
        /^input\.source_url = "movies\/a\.mkv" is an HLS playlist \(format hls\), not a media file; playlists, concat lists and image sequences can read files outside the NAS, so they are refused/,
      ),
    });
    expect(await snapshotTree(d.nas)).toEqual(before);
    expect(await readdir(path.join(d.temp, 'jobs')).catch(() => [])).toEqual([]);
  });
});
