/**
 * runJobCommand with --part/--stitch: bad flags exit 2 before the job file is read, the executor receives the part
 * or stitch job derived from the file, and a stitch whose parts are not all committed exits 3 (docker/k3s/split-job
 * retries exactly that). The executor is a stand-in here: the real part and stitch runs have their own tests.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import type { JobExecutor } from '../../src/job/contract.js';
import type { SplitFlags, SplitJob } from '../../src/job/part-flags.js';
import { PartsMissingError } from '../../src/job/parts-missing-error.js';
import { EXIT_BAD_FILE, EXIT_PARTS_MISSING, runJobCommand } from '../../src/job/run-job-command.js';
import { createLogger } from '../../src/log.js';
import { makeTempDir } from '../helpers/media.js';

let root: string;
let config: Config;
let jobFile: string;
beforeAll(async () => {
  root = await makeTempDir('tw-split-flags-');
  config = loadConfig({
    cwd: root,
    args: [],
    env: {
      WORKER_NAS_MOUNT_PATH: root,
      WORKER_TEMP_DIR: path.join(root, 'tmp'),
      WORKER_STATE_DIR: path.join(root, 'state'),
      WORKER_LOG_LEVEL: 'silent',
    },
  });
  jobFile = path.join(root, 'job.json');
  await writeFile(
    jobFile,
    JSON.stringify({
      job_id: 'film-7',
      input: { source_url: 'movies/a.mp4' },
      outputs: [{ resolution: '320x180', bitrate: '300k', codec: 'libx264', dest_path: 'out/film/180p' }],
    }),
  );
});
afterAll(async () => {
  const { rm } = await import('node:fs/promises');
  await rm(root, { recursive: true, force: true });
});

function sink(): PassThrough & { text(): string } {
  const s = new PassThrough() as PassThrough & { text(): string };
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  s.text = () => Buffer.concat(chunks).toString('utf8');
  return s;
}

async function run(split: SplitFlags, env: Record<string, string>, executor: JobExecutor, file = jobFile) {
  const out = sink();
  const err = sink();
  const code = await runJobCommand({
    file,
    config,
    out,
    err,
    isTTY: false,
    split,
    env,
    executor,
    log: createLogger({ level: 'silent' }),
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

function recorder(): { executor: JobExecutor; jobs: SplitJob[] } {
  const jobs: SplitJob[] = [];
  return {
    jobs,
    executor: async (job) => {
      jobs.push(job as SplitJob);
      return { manifestUrl: `/out/${job.job_id}`, metrics: {} } as Awaited<ReturnType<JobExecutor>>;
    },
  };
}

describe('run-job --part / --stitch', () => {
  it('--part in an Indexed Job pod: the executor runs part JOB_COMPLETION_INDEX of TW_PART_COUNT', async () => {
    const rec = recorder();
    const r = await run({ part: true }, { JOB_COMPLETION_INDEX: '1', TW_PART_COUNT: '3' }, rec.executor);
    expect(r.code).toBe(0);
    expect(rec.jobs).toHaveLength(1);
    expect(rec.jobs[0]).toMatchObject({
      job_id: 'film-7.part-1',
      part: { parent_job_id: 'film-7', index: 1, count: 3 },
      outputs: [{ dest_path: 'out/film/180p' }],
    });
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'COMPLETED', manifest_url: '/out/film-7.part-1' });
  });

  it('--stitch --part-count: the executor runs the stitch job', async () => {
    const rec = recorder();
    const r = await run({ stitch: true, partCount: '3' }, {}, rec.executor);
    expect(r.code).toBe(0);
    expect(rec.jobs[0]).toMatchObject({ job_id: 'film-7.stitch', stitch: { parent_job_id: 'film-7', count: 3 } });
  });

  it('no flags: the file job unchanged', async () => {
    const rec = recorder();
    expect((await run({}, { JOB_COMPLETION_INDEX: '0', TW_PART_COUNT: '2' }, rec.executor)).code).toBe(0);
    expect(rec.jobs[0]!.job_id).toBe('film-7');
    expect(rec.jobs[0]).not.toHaveProperty('part');
  });

  it('bad flags: exit 2 with one clear line, before the file is read and without running anything', async () => {
    const rec = recorder();
    const missing = path.join(root, 'no-such.json');
    const r = await run({ part: '3/3' }, {}, rec.executor, missing);
    expect(r.code).toBe(EXIT_BAD_FILE);
    expect(r.stderr).toBe('error: part index 3 is out of range for 3 parts (indexes are 0 to 2)\n');
    expect(r.stdout).toBe('');
    const both = await run({ part: '0/2', stitch: true }, {}, rec.executor);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/exclude each other/);
    const noIndex = await run({ part: true, partCount: '2' }, {}, rec.executor);
    expect(noIndex.code).toBe(2);
    expect(noIndex.stderr).toMatch(/JOB_COMPLETION_INDEX/);
    expect(rec.jobs).toEqual([]);
  });

  it('a job file that is already a part: exit 2', async () => {
    const file = path.join(root, 'part.json');
    await writeFile(
      file,
      JSON.stringify({
        job_id: 'film-7.part-0',
        part: { parent_job_id: 'film-7', index: 0, count: 2, start_segment: 0 },
        input: { source_url: 'movies/a.mp4' },
        outputs: [{ resolution: '320x180', bitrate: '300k', codec: 'libx264', dest_path: 'out/film/180p' }],
      }),
    );
    const rec = recorder();
    const r = await run({ part: '1/2' }, {}, rec.executor, file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already a part job/);
    expect(rec.jobs).toEqual([]);
  });

  it('a stitch with parts missing: exit 3 and a FAILED payload naming them; any other failure: exit 1', async () => {
    const missing = await run({ stitch: true }, { TW_PART_COUNT: '3' }, async (job) => {
      throw new PartsMissingError((job as SplitJob).stitch!.parent_job_id, 3, [1, 2]);
    });
    expect(missing.code).toBe(EXIT_PARTS_MISSING);
    expect(JSON.parse(missing.stdout)).toMatchObject({
      status: 'FAILED',
      error_msg:
        'cannot stitch job film-7 yet: 2 of 3 parts not committed (index 1, 2); the parts already there are kept',
    });
    const broken = await run({ stitch: true }, { TW_PART_COUNT: '3' }, async () => {
      throw new Error('disk full');
    });
    expect(broken.code).toBe(1);
  });
});
