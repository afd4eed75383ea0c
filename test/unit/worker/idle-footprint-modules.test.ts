/**
 * Issue 2 §8 (the idle worker must be invisible): what `transcode-worker start` loads before its first job. The
 * transcoding pipeline (planning, ffmpeg arguments, staging, verification, commit, hls-parser) is loaded on the first
 * job, and host-load reads the CPU and memory through Node's os module, not systeminformation.
 * Checked on the built app (dist/), in a fresh Node process that records every ES module it loads.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, assertBuilt } from '../../helpers/worker-process.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tw-idle-modules-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Runs `script` (ESM) in a fresh node; returns the URLs of the ES modules it loaded and the CommonJS files it required. */
async function loadedBy(script: string): Promise<{ esm: string[]; cjs: string[] }> {
  assertBuilt();
  const log = path.join(dir, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  const hooks = path.join(dir, 'hooks.mjs');
  const register = path.join(dir, 'register.mjs');
  await writeFile(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(log)}, url + '\\n');
  return next(url, context);
}
`,
  );
  await writeFile(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
  const main = path.join(dir, `main-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(
    main,
    `${script}
import { createRequire } from 'node:module';
process.stdout.write(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));
`,
  );
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, main], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const esm = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
  return { esm, cjs: JSON.parse(r.stdout) as string[] };
}

const dist = (rel: string) => pathToFileURL(path.join(REPO_ROOT, 'dist', rel)).href;

describe('modules loaded by an idle worker', () => {
  it('createApp loads the pipeline only when the first job runs', async () => {
    const { esm } = await loadedBy(`import { createApp } from ${JSON.stringify(dist('app.js'))};
void createApp;`);
    expect(esm).toContain(dist('app.js'));
    expect(esm).toContain(dist('worker/worker.js'));
    const pipeline = ['job/pipeline.js', 'job/validate.js', 'job/plan-choice.js', 'transcode/plan.js']
      .concat(['transcode/args/index.js', 'transcode/ffprobe.js'])
      .concat(['storage/commit.js', 'storage/verify.js', 'storage/staging.js', 'storage/master-playlist.js'])
      .map(dist);
    expect(esm.filter((u) => pipeline.includes(u))).toEqual([]);
    expect(esm.filter((u) => u.includes('/node_modules/hls-parser/'))).toEqual([]);
    // The orchestrator client speaks Node's http (issue 13: axios cost about 1 ms of CPU per sync).
    expect(esm.filter((u) => u.includes('/node_modules/axios/'))).toEqual([]);
  });

  it('the host-load reader requires no part of systeminformation on Linux (CPU from os.cpus, RAM from os.freemem)', async () => {
    const { cjs } = await loadedBy(`import { createHostLoadReader } from ${JSON.stringify(dist('worker/host-load.js'))};
const load = await createHostLoadReader()();
if (!(load.ramPercent > 0)) throw new Error('no RAM reading: ' + JSON.stringify(load));`);
    const si = cjs
      .filter((f) => f.includes(`${path.sep}systeminformation${path.sep}`))
      .map((f) => path.basename(f))
      .sort();
    // macOS alone reads memory through systeminformation's memory part (util/memory-load.ts).
    expect(si).toEqual(process.platform === 'darwin' ? ['memory.js', 'util.js'] : []);
  });

  it("the probe's host reader requires only the cpu and graphics parts of systeminformation", async () => {
    const { cjs } = await loadedBy(`import { createHostReader } from ${JSON.stringify(dist('capabilities/host.js'))};
import { execaRunner } from ${JSON.stringify(dist('exec/runner.js'))};
const host = await createHostReader(execaRunner)();
if (!(host.cpuCores > 0)) throw new Error('no CPU reading: ' + JSON.stringify(host));`);
    const si = cjs.filter((f) => f.includes(`${path.sep}systeminformation${path.sep}`)).map((f) => path.basename(f));
    expect(si).toContain('cpu.js');
    expect(si).toContain('graphics.js');
    expect(si).not.toContain('index.js');
    expect(si).not.toContain('network.js');
  });
});
