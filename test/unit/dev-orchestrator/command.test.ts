import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readJobsFile, runDevOrchestratorCommand } from '../../../src/dev-orchestrator/command.js';
import type { RunningDevOrchestrator } from '../../../src/dev-orchestrator/server.js';
import { ConfigError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log.js';
import { waitFor } from '../../helpers/wait.js';
import { jobBody } from './fixtures.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dev-orch-cmd-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sinkLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'info', destination }) };
}

describe('dev-orchestrator command', () => {
  it('enqueues the jobs file, serves until aborted, then closes', async () => {
    const file = path.join(dir, 'jobs.json');
    await writeFile(file, JSON.stringify({ jobs: [jobBody({ job_id: 'a' }), jobBody({ job_id: 'b' })] }));
    const { lines, log } = sinkLogger();
    const ac = new AbortController();
    let orch: RunningDevOrchestrator | undefined;
    const done = runDevOrchestratorCommand({
      host: '127.0.0.1',
      port: 0,
      log,
      jobsFile: file,
      signal: ac.signal,
      onListening: (o) => (orch = o),
    });
    await waitFor(() => orch, { message: 'the orchestrator to listen' });
    const res = await fetch(`${orch!.url}/api/v1/jobs`, { headers: { connection: 'close' } });
    const body = (await res.json()) as { jobs: { job_id: string; status: string }[] };
    expect(body.jobs.map((j) => [j.job_id, j.status])).toEqual([
      ['a', 'QUEUED'],
      ['b', 'QUEUED'],
    ]);
    expect(lines.some((l) => String(l.msg).includes(`listening on ${orch!.url}`))).toBe(true);
    ac.abort();
    await done;
    await expect(fetch(`${orch!.url}/api/v1/jobs`)).rejects.toThrow();
  });

  it('reports a bad jobs file as one ConfigError naming the file and the job', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, JSON.stringify([jobBody(), { input: { source_url: 'x' } }]));
    await expect(readJobsFile(file)).rejects.toThrow(ConfigError);
    await expect(readJobsFile(file)).rejects.toThrow(`jobs file ${file}: job #2 is invalid: outputs is required`);
    await expect(readJobsFile(path.join(dir, 'missing.json'))).rejects.toThrow('cannot read jobs file');
    await writeFile(file, JSON.stringify(jobBody({ job_id: 'single' })));
    expect((await readJobsFile(file)).map((j) => j.job_id)).toEqual(['single']);
  });
});
