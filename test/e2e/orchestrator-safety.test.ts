/**
 * Black-box: the orchestrator connection as a hostile or misconfigured network presents it. A finalize redirected to a
 * login page is kept and retried, never taken as delivered; the credentials in orchestrator_url and the auth_token
 * appear nowhere a person or a log shipper can read them, whatever goes wrong.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SHORT, ladderJob, listFiles, makeWorld, type World } from './fixture.js';
import { waitFor } from '../helpers/wait.js';

let world: World | undefined;
afterEach(async () => {
  await world?.dispose();
  world = undefined;
});

const LOGIN_PAGE = { status: 200, raw: '<html><form action="/login">Sign in</form></html>' };

describe('orchestrator connection (black box)', () => {
  it('keeps a finalize answered 302 to a login page (which answers 200) in the outbox and delivers it once the redirect is gone', async () => {
    world = await makeWorld({ lostJobSyncs: 1000 });
    const { orch, dirs } = world;
    orch.failWith('finalize', 3, { status: 302, headers: { location: '/login' }, raw: 'Found' });
    orch.hook('other', (req) => (req.path === '/login' ? LOGIN_PAGE : undefined));
    const w = await world.start();
    const job = await orch.enqueue(ladderJob(SHORT, 'processed/redirected'));
    await w.waitForLog((l) => l.msg === 'finalize not delivered yet; will retry', 60_000, 'a retried finalize');
    const kept = await listFiles(path.join(dirs.state, 'outbox'));
    expect(kept.length).toBe(1);
    const done = await orch.waitForJob(job.job_id, ['COMPLETED', 'FAILED'], { timeoutMs: 30_000 });
    expect(done.status).toBe('COMPLETED');
    expect(orch.requestsTo('finalize').map((r) => r.status)).toEqual([302, 302, 302, 200]);
    // The login page was never asked for: the redirect was not followed.
    expect(orch.requests.filter((r) => r.path === '/login')).toEqual([]);
    const retried = w.logs.find((l) => l.msg === 'finalize not delivered yet; will retry')!;
    expect(String(retried.err)).toContain(`HTTP 302 to ${orch.url}/login`);
    await waitFor(async () => (await listFiles(path.join(dirs.state, 'outbox'))).length === 0, {
      message: 'the outbox to be empty',
    });
  });

  it('never shows the user:password of orchestrator_url or the auth_token: logs, /status, /readyz, through outage, 401 and redirects', async () => {
    world = await makeWorld({}, false);
    const { orch } = world;
    const password = 'pw-S3cret-4711';
    const token = 'tok-S3cret-0815';
    const credUrl = orch.url.replace('http://', `http://admin:${password}@`);
    const shownUrl = orch.url.replace('http://', 'http://[redacted]@');
    let phase: 'unauthorized' | 'redirect' | 'ok' = 'unauthorized';
    orch.hook('register', () =>
      phase === 'unauthorized'
        ? { status: 401, body: { error: 'unauthorized', message: 'bad credentials' } }
        : phase === 'redirect'
          ? { status: 307, headers: { location: `http://admin:${password}@127.0.0.1:1/sso/login?token=${token}` } }
          : undefined,
    );
    await orch.stop();
    const w = await world.start({ WORKER_ORCHESTRATOR_URL: credUrl, WORKER_AUTH_TOKEN: token });
    const url = await world.httpUrl(w);
    const bodies: string[] = [];
    const snapshot = async () => {
      const ready = await fetch(`${url}/readyz`);
      const status = await fetch(`${url}/status`);
      const texts = [await ready.text(), await status.text()];
      bodies.push(...texts);
      return texts;
    };

    // 1. Orchestrator down.
    await w.waitForLog((l) => /unreachable/.test(String(l.err)), 30_000, 'an unreachable orchestrator');
    const [downReady, downStatus] = await snapshot();
    expect(JSON.parse(downStatus!).orchestrator_url).toBe(shownUrl);
    expect(downReady).toContain(shownUrl);

    // 2. Up, but refusing (401).
    await orch.start();
    await w.waitForLog((l) => l.auth_problem === true, 20_000, 'a 401');
    await snapshot();

    // 3. A redirect whose Location carries credentials and the token.
    phase = 'redirect';
    await w.waitForLog((l) => /redirect/.test(String(l.err)), 20_000, 'a redirect');
    const [redirectReady] = await waitFor(
      async () => {
        const texts = await snapshot();
        return /redirect/.test(texts[0]!) ? texts : undefined;
      },
      { message: '/readyz to name the redirect' },
    );
    expect(redirectReady).toContain('http://[redacted]@127.0.0.1:1/sso/login');

    // 4. Registered; then the sync is redirected too.
    phase = 'ok';
    const registered = await w.waitForLog((l) => l.msg === 'registered with the orchestrator', 20_000, 'registration');
    expect(registered.orchestrator_url).toBe(shownUrl);
    orch.hook('sync', () => ({ status: 302, headers: { location: `${credUrl}/login` } }));
    await w.waitForLog((l) => l.msg === 'sync failed' && /redirect/.test(String(l.err)), 20_000, 'a redirected sync');
    await waitFor(
      async () => {
        const [, status] = await snapshot();
        return /redirect/.test(JSON.parse(status!).last_sync?.error ?? '');
      },
      { message: '/status to show the failed sync' },
    );

    w.kill('SIGTERM');
    await w.exited;
    const everything = [w.output(), ...bodies].join('\n');
    const basic = Buffer.from(`admin:${password}`).toString('base64');
    for (const secret of [password, token, basic, `admin:`]) expect(everything).not.toContain(secret);
    // The worker did authenticate with them (they were in use, not ignored).
    expect(orch.requestsTo('register').at(-1)!.headers.authorization).toBe(`Basic ${basic}`);
  });
});
