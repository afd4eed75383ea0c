/**
 * The outbox against real files in a temporary state_dir and a real HTTP orchestrator on 127.0.0.1 (its finalize
 * route answered by hooks, so every delivery is recorded exactly as sent).
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { createOrchestratorClient } from '../../../src/orchestrator/client.js';
import { Outbox, outboxFileName } from '../../../src/worker/outbox.js';
import { StateWrites } from '../../../src/worker/state-writes.js';
import { safeJobId } from '../../../src/storage/paths.js';
import { startTestOrchestrator, type TestOrchestrator } from '../../helpers/orchestrator.js';
import { waitFor } from '../../helpers/wait.js';

let stateDir: string;
let orch: TestOrchestrator;
let outboxes: Outbox[] = [];

beforeEach(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'tw-outbox-'));
  orch = await startTestOrchestrator();
});
afterEach(async () => {
  for (const o of outboxes) o.close();
  outboxes = [];
  await orch.close();
  await rm(stateDir, { recursive: true, force: true });
});

function makeOutbox(): Outbox {
  const log = createLogger({ level: 'silent' });
  const client = createOrchestratorClient({ baseUrl: orch.url, workerId: 'w1', timeoutMs: 2000 });
  const writes = new StateWrites({ stateDir, log, retryStartMs: 20, retryMaxMs: 50 });
  const outbox = new Outbox({ stateDir, client, log, writes, retryStartMs: 20, retryMaxMs: 50 });
  outboxes.push(outbox);
  return outbox;
}

const ok = { status: 200, body: { ack: true } };
const completed = (manifest: string) => ({
  status: 'COMPLETED' as const,
  manifest_url: manifest,
  metrics: { total_time_ms: 1 },
});
const failed = (msg: string) => ({ status: 'FAILED' as const, error_msg: msg, metrics: { total_time_ms: 1 } });

async function outboxFiles(): Promise<string[]> {
  return (await readdir(path.join(stateDir, 'outbox')).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));
}

describe('outbox', () => {
  it('keeps ids that differ only in unsafe characters or after 120 characters apart', async () => {
    orch.hook('finalize', () => ok);
    const prefix = 'x'.repeat(121);
    const ids = ['tenant/a', 'tenant_a', `${prefix}-one`, `${prefix}-two`];
    const outbox = makeOutbox();
    await Promise.all(ids.map((id) => outbox.put(id, completed(`/${id}.m3u8`)).settled));
    expect((await outboxFiles()).length).toBe(4);

    // A restart reads all four back and delivers each with its own payload.
    const again = makeOutbox();
    await again.load();
    expect(again.count()).toBe(4);
    again.flushInBackground();
    await waitFor(() => orch.requestsTo('finalize').length >= 4, { message: 'four finalizes' });
    const got = Object.fromEntries(orch.requestsTo('finalize').map((r) => [r.jobId, r.body.manifest_url]));
    expect(got).toEqual(Object.fromEntries(ids.map((id) => [id, `/${id}.m3u8`])));
    await waitFor(async () => (await outboxFiles()).length === 0, { message: 'the outbox to be empty' });
  });

  it('a newer result replaces one waiting on a 503, and an in-flight delivery of the old one never deletes it', async () => {
    const outbox = makeOutbox();
    let putDuringFlight: Promise<void> | undefined;
    let failedAttempts = 0;
    orch.hook('finalize', async (req) => {
      if (req.body.status !== 'FAILED') return ok;
      failedAttempts++;
      if (failedAttempts < 3) return { status: 503, body: { error: 'unavailable' } };
      // Third try of the FAILED result: the newer COMPLETED is recorded while this request is in flight, and only
      // then is the FAILED one accepted.
      putDuringFlight ??= outbox.put('job-1', completed('/new.m3u8')).settled;
      await putDuringFlight;
      return ok;
    });
    outbox.put('job-1', failed('first run failed'));
    const delivered = outbox.deliver('job-1');
    await expect(delivered).resolves.toBe(true);
    const finals = orch.requestsTo('finalize').filter((r) => r.status === 200);
    expect(finals.at(-1)!.body).toMatchObject({ status: 'COMPLETED', manifest_url: '/new.m3u8' });
    await waitFor(async () => (await outboxFiles()).length === 0, { message: 'the outbox to be empty' });
  });

  it('each retry sends the newest result: a COMPLETED put while FAILED waits on 503s is what gets accepted', async () => {
    const outbox = makeOutbox();
    orch.hook('finalize', (req) => (req.body.status === 'FAILED' ? { status: 503, body: {} } : ok));
    outbox.put('job-2', failed('stale'));
    const delivered = outbox.deliver('job-2');
    await orch.waitForRequest('finalize', { where: (r) => r.status === 503 });
    await outbox.put('job-2', completed('/latest.m3u8')).settled;
    await expect(delivered).resolves.toBe(true);
    expect(
      orch
        .requestsTo('finalize')
        .filter((r) => r.status === 200)
        .map((r) => r.body.status),
    ).toEqual(['COMPLETED']);
    await waitFor(async () => (await outboxFiles()).length === 0, { message: 'the outbox to be empty' });
  });

  it('reads entries written by the previous version (truncated, sanitised names) and delivers them', async () => {
    const id = `tenant/${'y'.repeat(130)}`;
    await mkdir(path.join(stateDir, 'outbox'), { recursive: true });
    const legacy = path.join(stateDir, 'outbox', `${safeJobId(id)}.json`);
    const old = { job_id: id, payload: completed('/legacy.m3u8'), created_at: '2026-01-01T00:00:00.000Z' };
    await writeFile(legacy, JSON.stringify(old));
    orch.fail('finalize', Infinity, 503);
    const outbox = makeOutbox();
    await outbox.load();
    await waitFor(async () => (await outboxFiles()).join() === outboxFileName(id), { message: 'the hashed name' });
    expect(JSON.parse(await readFile(path.join(stateDir, 'outbox', outboxFileName(id)), 'utf8'))).toMatchObject(old);
    orch.clearFaults();
    orch.hook('finalize', () => ok);
    await expect(outbox.deliver(id)).resolves.toBe(true);
    expect(orch.requestsTo('finalize').at(-1)!.body).toMatchObject({ manifest_url: '/legacy.m3u8' });
  });

  it('moves entries of the wrong shape aside and loads the rest', async () => {
    const dir = path.join(stateDir, 'outbox');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'a.json'), '{}');
    await writeFile(path.join(dir, 'b.json'), '{"job_id":5}');
    await writeFile(path.join(dir, 'c.json'), '{"job_id":"x","payl');
    await writeFile(
      path.join(dir, outboxFileName('good')),
      JSON.stringify({ job_id: 'good', entry_id: 'e1', payload: failed('x'), created_at: new Date().toISOString() }),
    );
    const outbox = makeOutbox();
    await outbox.load();
    expect(outbox.pending().map((e) => e.job_id)).toEqual(['good']);
    const names = await outboxFiles();
    for (const n of ['a', 'b', 'c']) expect(names.some((f) => f.startsWith(`${n}.json.corrupt-`))).toBe(true);
  });
  it('removes only what was delivered: a result still refused with 503 stays on disk for the next start', async () => {
    orch.hook('finalize', (req) => (req.jobId === 'down' ? { status: 503, body: {} } : ok));
    const outbox = makeOutbox();
    await Promise.all([outbox.put('up', completed('/up.m3u8')).settled, outbox.put('down', failed('x')).settled]);
    await expect(outbox.deliver('up')).resolves.toBe(true);
    const down = outbox.deliver('down');
    await orch.waitForRequest('finalize', { where: (r) => r.jobId === 'down' && r.status === 503 });
    outbox.close();
    await expect(down).resolves.toBe(false);
    await waitFor(async () => (await outboxFiles()).join() === outboxFileName('down'), { message: 'only down left' });

    const again = makeOutbox();
    await again.load();
    expect(again.pending().map((e) => [e.job_id, e.payload.status])).toEqual([['down', 'FAILED']]);
  });

  it('a JobGone answer drops the result (the job is not ours), a newer put for the same job wins on disk', async () => {
    orch.fail('finalize', 1, 410);
    const outbox = makeOutbox();
    await outbox.put('gone', failed('x')).settled;
    await expect(outbox.deliver('gone')).resolves.toBe(true);
    await waitFor(async () => (await outboxFiles()).length === 0, { message: 'the dropped result to be removed' });

    await outbox.put('twice', failed('old')).settled;
    await outbox.put('twice', completed('/new.m3u8')).settled;
    const again = makeOutbox();
    await again.load();
    expect(again.get('twice')?.payload).toMatchObject({ status: 'COMPLETED', manifest_url: '/new.m3u8' });
  });
});
