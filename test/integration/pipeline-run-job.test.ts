/**
 * `transcode-worker run-job job.json` through runJobCommand: exit codes, the finalize payload on stdout,
 * progress on stderr, and a real SIGINT to a child process (nothing committed, no ffmpeg left).
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobCommand } from '../../src/job/run-job-command.js';
import { findProcesses, waitUntil } from '../helpers/fake-ffmpeg.js';
import { snapshotTree } from '../helpers/fs-snapshot.js';
import { makeSource } from '../helpers/media.js';
import { createPipelineHarness, ladderJob, type PipelineHarness } from '../helpers/pipeline-harness.js';

let h: PipelineHarness;
beforeAll(async () => {
  h = await createPipelineHarness();
  await makeSource(path.join(h.nas, 'movies'), { name: 'a.mp4' });
});
afterAll(() => h.cleanup());

function sink(): PassThrough & { text(): string } {
  const s = new PassThrough() as PassThrough & { text(): string };
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  s.text = () => Buffer.concat(chunks).toString('utf8');
  return s;
}

async function runFile(content: string | object, opts: { isTTY?: boolean; signal?: AbortSignal } = {}) {
  const file = path.join(h.root, `job-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  const out = sink();
  const err = sink();
  const code = await runJobCommand({
    file,
    config: h.config,
    out,
    err,
    isTTY: opts.isTTY ?? false,
    signal: opts.signal,
  });
  return { code, stdout: out.text(), stderr: err.text(), file };
}

describe('runJobCommand', () => {
  it('exit 0 and a COMPLETED finalize payload on stdout; plain progress lines on stderr', async () => {
    const r = await runFile(ladderJob('movies/a.mp4', [['320x180', '300k', 'out/rj/180p']]));
    expect(r.code).toBe(0);
    const payload = JSON.parse(r.stdout);
    expect(payload).toMatchObject({
      worker_id: h.config.worker_id,
      status: 'COMPLETED',
      manifest_url: '/out/rj/180p/index.m3u8',
      metrics: { encoders: { 'out/rj/180p': 'libx264' } },
    });
    expect(payload.metrics.total_time_ms).toBeGreaterThanOrEqual(payload.metrics.transcode_time_ms);
    expect(r.stderr).toMatch(/^progress 100\.0% /m);
  });

  it('a progress bar on a terminal', async () => {
    const r = await runFile(ladderJob('movies/a.mp4', [['320x180', '300k', 'out/rj-tty/180p']]), { isTTY: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('transcoding [');
    expect(r.stderr).toContain('100%');
  });

  it('exit 1 and a FAILED payload with the reason for a job that fails', async () => {
    const r = await runFile(ladderJob('movies/missing.mp4', [['240p', '300k', 'out/rj/x']]));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: 'FAILED',
      error_msg: `input file does not exist: ${path.join(h.nas, 'movies', 'missing.mp4')}`,
    });
  });

  it('exit 2 with a clear message for a missing file, bad JSON, or a non-job', async () => {
    const out = sink();
    const err = sink();
    const missing = path.join(h.root, 'nope.json');
    expect(await runJobCommand({ file: missing, config: h.config, out, err, isTTY: false })).toBe(2);
    expect(err.text()).toBe(`error: cannot read job file ${missing}: no such file\n`);
    expect(out.text()).toBe('');

    const bad = await runFile('{ "job_id": ');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: job file .* is not valid JSON: /);

    const notJob = await runFile({ job_id: 'x', outputs: [] });
    expect(notJob.code).toBe(2);
    expect(notJob.stderr).toMatch(/is not a valid job: /);
    expect(notJob.stdout).toBe('');
  });

  it('an abort gives exit 1 (a FAILED job), a FAILED payload, and commits nothing', async () => {
    const ac = new AbortController();
    ac.abort('interrupted by SIGINT; nothing was committed');
    const before = await snapshotTree(h.nas);
    const r = await runFile(ladderJob('movies/a.mp4', [['320x180', '300k', 'out/rj-abort/180p']]), {
      signal: ac.signal,
    });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: 'FAILED',
      error_msg: 'interrupted by SIGINT; nothing was committed',
    });
    expect(await snapshotTree(h.nas)).toEqual(before);
  });

  it.skipIf(process.platform === 'win32')('a real SIGINT stops ffmpeg and commits nothing', async () => {
    // Long enough that ffmpeg is still running when SIGINT arrives, even on a fast machine.
    await makeSource(path.join(h.nas, 'movies'), { name: 'long.mp4', duration: 60 });
    const job = ladderJob('movies/long.mp4', [
      ['320x180', '300k', 'out/sigint/180p'],
      ['214x120', '150k', 'out/sigint/120p'],
    ]);
    const jobFile = path.join(h.root, 'sigint-job.json');
    await writeFile(jobFile, JSON.stringify(job));
    const driver = path.join(h.root, 'driver.mts');
    const modulePath = fileURLToPath(new URL('../../src/job/run-job-command.ts', import.meta.url));
    const signalsPath = fileURLToPath(new URL('../../src/util/signals.ts', import.meta.url));
    // The job's signal is made as the CLI makes it: SIGINT/SIGTERM abort it with interruptedReason().
    await writeFile(
      driver,
      `import { interruptedReason, runJobCommand } from ${JSON.stringify(modulePath)};
import { onShutdownSignal } from ${JSON.stringify(signalsPath)};
const config = JSON.parse(process.argv[3]);
const interrupted = new AbortController();
onShutdownSignal((sig) => interrupted.abort(interruptedReason(sig)));
const code = await runJobCommand({ file: process.argv[2], config, out: process.stdout, err: process.stderr, isTTY: false, signal: interrupted.signal });
process.exitCode = code;
`,
    );
    const before = await snapshotTree(h.nas);
    const child = spawn(process.execPath, ['--import', 'tsx', driver, jobFile, JSON.stringify(h.config)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let done = false;
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => {
        done = true;
        resolve(code);
      }),
    );
    const staging = path.join(h.tempDir, 'jobs', job.job_id);
    await waitUntil(
      () => done || (/^progress /m.test(stderr) && findProcesses(staging).length > 0),
      'ffmpeg to run',
      30_000,
    );
    if (done) throw new Error(`the job process exited early: ${stderr}`);
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({
      status: 'FAILED',
      error_msg: 'interrupted by SIGINT; nothing was committed',
    });
    expect(findProcesses(staging)).toEqual([]);
    expect(await h.stagingLeft()).toEqual([]);
    expect(await snapshotTree(h.nas)).toEqual(before);
  });
});
