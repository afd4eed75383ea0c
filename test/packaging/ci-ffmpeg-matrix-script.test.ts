/**
 * scripts/ci-ffmpeg-matrix.sh runs the black-box subset against every ffmpeg version (see the script; .ci/run calls
 * it). Here only what runs everywhere and in a second: it parses, it checks its arguments before any work, it skips
 * when told to, and the subset it names exists and is left out of `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts/ci-ffmpeg-matrix.sh');

function run(env: Record<string, string>) {
  return spawnSync('bash', [SCRIPT], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
}

describe('scripts/ci-ffmpeg-matrix.sh', () => {
  it('is valid bash with strict mode on', () => {
    const r = spawnSync('bash', ['-n', SCRIPT], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(SCRIPT, 'utf8')).toMatch(/^set -euo pipefail$/m);
  });

  it('skips with exit 0 and a clear message when SKIP_FFMPEG_MATRIX=1', () => {
    const r = run({ SKIP_FFMPEG_MATRIX: '1' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/SKIPPED: SKIP_FFMPEG_MATRIX=1/);
  });

  it('rejects an unknown leg before doing any work', () => {
    const r = run({ FFMPEG_MATRIX: 'host,bookworm' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/FFMPEG_MATRIX takes host, trixie and sid, comma-separated \(got 'host,bookworm'\)/);
    expect(r.stdout).not.toMatch(/running the subset|building/);
  });

  it('is wired into .ci/run, and its subset exists outside the npm test suite', () => {
    expect(readFileSync(path.join(ROOT, '.ci/run'), 'utf8')).toMatch(/bash scripts\/ci-ffmpeg-matrix\.sh/);
    expect(existsSync(path.join(ROOT, 'test/matrix/ffmpeg-matrix.e2e.ts'))).toBe(true);
    expect(existsSync(path.join(ROOT, 'test/matrix/Dockerfile'))).toBe(true);
    // *.e2e.ts, not *.test.ts: vitest.config.ts (npm test) must not pick it up; vitest.matrix.config.ts does.
    const include = /include: \[([^\]]*)\]/.exec(readFileSync(path.join(ROOT, 'vitest.config.ts'), 'utf8'))?.[1];
    expect(include?.split(',').map((g) => g.trim().replace(/^'|'$/g, ''))).toSatisfy((globs: string[]) =>
      globs.every((g) => g.endsWith('.test.ts')),
    );
    expect(readFileSync(path.join(ROOT, 'vitest.matrix.config.ts'), 'utf8')).toMatch(/test\/matrix\/\*\*\/\*\.e2e\.ts/);
  });
});
