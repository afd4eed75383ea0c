/**
 * Dockerfile.cpu / .nvidia / .vaapi, offline: dockerfilelint passes, and project-specific rules read with
 * dockerfile-ast (multi-stage with production dependencies only, non-root, tini as PID 1, a curl-free health check,
 * OCI labels, the environment names that src/config.ts really reads, the three files kept alike).
 * The real builds run in scripts/ci-containers.sh.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DockerfileParser, type Dockerfile, type Instruction } from 'dockerfile-ast';
import { afterAll, describe, expect, it } from 'vitest';
import { schemaLeaves } from '../../src/config-schema.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FILES = ['Dockerfile.cpu', 'Dockerfile.nvidia', 'Dockerfile.vaapi'] as const;

function parse(file: string): Dockerfile {
  return DockerfileParser.parse(readFileSync(path.join(ROOT, file), 'utf8'));
}

/** Instructions of the stage that starts at the index-th FROM (the last one = the runtime image). */
function stage(df: Dockerfile, index: number): Instruction[] {
  const froms = df.getFROMs();
  const from = froms.at(index)!;
  const next = froms[froms.indexOf(from) + 1];
  const start = from.getRange().start.line;
  const end = next ? next.getRange().start.line : Number.POSITIVE_INFINITY;
  return df.getInstructions().filter((i) => i.getRange().start.line > start && i.getRange().start.line < end);
}

const args = (i: Instruction): string => i.getArgumentsContent() ?? '';
const ofKind = (list: Instruction[], keyword: string) => list.filter((i) => i.getKeyword() === keyword);

/** ENV name=value pairs of a stage, with the names in order. */
function envOf(list: Instruction[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const i of ofKind(list, 'ENV'))
    for (const m of args(i).matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env.set(m[1]!, m[2]!);
  return env;
}

/** The runtime stage, rendered as comparable lines (for "the three Dockerfiles stay alike"). */
function runtimeContract(df: Dockerfile): string[] {
  return stage(df, -1)
    .filter((i) =>
      ['USER', 'VOLUME', 'EXPOSE', 'HEALTHCHECK', 'STOPSIGNAL', 'ENTRYPOINT', 'CMD', 'WORKDIR', 'COPY'].includes(
        i.getKeyword(),
      ),
    )
    .map((i) => `${i.getKeyword()} ${args(i).replace(/\s+/g, ' ')}`);
}

describe('Dockerfiles: dockerfilelint', () => {
  it.each(FILES)('%s has no dockerfilelint issue (rules in .dockerfilelintrc)', (file) => {
    const bin = path.join(ROOT, 'node_modules/.bin/dockerfilelint');
    const r = spawnSync(bin, ['-o', 'json', file], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    const report = JSON.parse(r.stdout) as { totalIssues: number; files: { issues: unknown[] }[] };
    expect(report.files[0]!.issues).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('dockerfilelint does flag a bad Dockerfile (the check is live)', () => {
    const bin = path.join(ROOT, 'node_modules/.bin/dockerfilelint');
    const r = spawnSync(bin, ['-o', 'json', '-'], {
      cwd: ROOT,
      encoding: 'utf8',
      input: 'FROM debian:bookworm-slim\nRUN apt-get install ffmpeg\nEXPOSE 99999\n',
      timeout: 30_000,
    });
    expect(JSON.parse(r.stdout).totalIssues).toBeGreaterThan(0);
  });
});

describe.each(FILES)('%s', (file) => {
  const df = parse(file);
  const runtime = stage(df, -1);
  const runtimeText = runtime.map(args).join('\n');

  it('builds from ARG BASE_IMAGE (default node:24-trixie-slim) in every stage', () => {
    const arg = df.getARGs().find((a) => a.getProperty()?.getName() === 'BASE_IMAGE');
    expect(arg?.getProperty()?.getValue()).toBe('docker.io/library/node:24-trixie-slim');
    const froms = df.getFROMs();
    expect(froms.map((f) => f.getBuildStage())).toEqual(['build', 'prod-deps', 'runtime']);
    for (const f of froms) expect(f.getImage()).toBe('${BASE_IMAGE}');
    // The build stage is the only one that may run on the build machine's platform: it leaves only JS behind.
    const platformOf = (f: (typeof froms)[number]) =>
      f
        .getFlags()
        .find((x) => x.getName() === 'platform')
        ?.getValue();
    expect(froms.map(platformOf)).toEqual(['$BUILDPLATFORM', undefined, undefined]);
  });

  it('compiles in the build stage and ships only production dependencies, dist/ and package.json', () => {
    const build = stage(df, 0).map(args).join('\n');
    expect(build).toMatch(/npm ci\b/);
    expect(build).toMatch(/npm run build/);
    const deps = stage(df, 1).map(args).join('\n');
    expect(deps).toMatch(/npm ci --omit=dev/);
    const runtimeStart = df.getFROMs().at(-1)!.getRange().start.line;
    const runtimeCopies = df.getCOPYs().filter((c) => c.getRange().start.line > runtimeStart);
    const copies = runtimeCopies.map((c) => args(c));
    const fromStages = runtimeCopies.map((c) =>
      c
        .getFlags()
        .find((f) => f.getName() === 'from')
        ?.getValue(),
    );
    expect(fromStages.filter(Boolean).sort()).toEqual(['build', 'prod-deps']);
    expect(copies.some((c) => /\/app\/node_modules/.test(c))).toBe(true);
    expect(copies.some((c) => /\/src\/dist/.test(c))).toBe(true);
    // No npm and no build tool runs in the runtime stage: its dependencies are exactly prod-deps' output.
    expect(runtimeText).not.toMatch(/npm (ci|install)/);
  });

  it('runs as node (uid 1000) with tini as PID 1 and the worker CLI as entrypoint', () => {
    const users = ofKind(runtime, 'USER').map(args);
    expect(users.at(-1)).toBe('node');
    const entry = runtime.filter((i) => i.getKeyword() === 'ENTRYPOINT').at(-1)!;
    expect(JSON.parse(args(entry))).toEqual(['/usr/bin/tini', '--', '/app/entrypoint.sh']);
    expect(JSON.parse(args(ofKind(runtime, 'CMD').at(-1)!))).toEqual(['start']);
    expect(runtimeText).toMatch(
      /apt-get install -y --no-install-recommends [^\n]*\bffmpeg\b[^\n]*\btini\b|pkgs="ffmpeg tini/,
    );
  });

  it('has a HEALTHCHECK run by node (no curl/wget in the image) and EXPOSE 9470', () => {
    const hc = df.getHEALTHCHECKs();
    expect(hc).toHaveLength(1);
    expect(args(hc[0]!)).toMatch(/CMD \["node", "\/app\/healthcheck.mjs"\]/);
    const flags = Object.fromEntries(hc[0]!.getFlags().map((f) => [f.getName(), f.getValue()]));
    expect(Object.keys(flags).sort()).toEqual(['interval', 'retries', 'start-period', 'timeout']);
    expect(runtimeText).not.toMatch(/\b(curl|wget)\b/);
    expect(ofKind(runtime, 'EXPOSE').map(args)).toEqual(['9470']);
  });

  it('cleans apt lists in the same RUN that installs, without recommends', () => {
    for (const run of ofKind(runtime, 'RUN').filter((r) => /apt-get install/.test(args(r)))) {
      expect(args(run)).toMatch(/--no-install-recommends/);
      expect(args(run)).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*/);
    }
  });

  it('sets OCI labels from the VERSION, REVISION and SOURCE build args', () => {
    const labels = ofKind(runtime, 'LABEL').map(args).join(' ');
    for (const [key, arg] of [
      ['version', 'VERSION'],
      ['revision', 'REVISION'],
      ['source', 'SOURCE'],
    ])
      expect(labels).toContain(`org.opencontainers.image.${key}="\${${arg}}"`);
    const declared = ofKind(runtime, 'ARG').map((a) => args(a).split('=')[0]);
    expect(declared).toEqual(expect.arrayContaining(['VERSION', 'REVISION', 'SOURCE']));
  });

  it('only sets WORKER_* variables that src/config.ts reads, with the container paths', () => {
    const env = envOf(runtime);
    const known = new Set(schemaLeaves().map((l) => l.env));
    const worker = [...env.keys()].filter((k) => k.startsWith('WORKER_'));
    expect(worker.filter((k) => !known.has(k))).toEqual([]);
    expect(env.get('WORKER_NAS_MOUNT_PATH')).toBe('/data/nas');
    expect(env.get('WORKER_TEMP_DIR')).toBe('/var/tmp/transcode-worker');
    expect(env.get('WORKER_STATE_DIR')).toBe('/var/lib/transcode-worker');
    expect(env.get('WORKER_HTTP_PORT')).toBe('9470');
    // The state folder is a volume and, like temp and the NAS mount point, is created for uid 1000.
    expect(ofKind(runtime, 'VOLUME').map(args).join(' ')).toContain('/var/lib/transcode-worker');
    expect(runtimeText).toMatch(
      /install -d -o node -g node[^\n]*\/var\/lib\/transcode-worker \/var\/tmp\/transcode-worker \/data\/nas/,
    );
  });

  it('keeps the runtime contract of Dockerfile.cpu (user, entrypoint, health check, copies, volume)', () => {
    expect(runtimeContract(df)).toEqual(runtimeContract(parse('Dockerfile.cpu')));
    const cpuEnv = envOf(stage(parse('Dockerfile.cpu'), -1));
    const env = envOf(runtime);
    for (const [k, v] of cpuEnv) expect(env.get(k), k).toBe(v);
  });
});

describe('hardware-specific Dockerfiles', () => {
  it('Dockerfile.nvidia asks the NVIDIA runtime for the video, CUDA/OpenCL and Vulkan driver libraries', () => {
    const runtime = stage(parse('Dockerfile.nvidia'), -1);
    const env = envOf(runtime);
    // graphics: the driver's Vulkan ICD for libplacebo; compute: libcuda and libnvidia-opencl.
    expect(env.get('NVIDIA_DRIVER_CAPABILITIES')?.split(',').sort()).toEqual([
      'compute',
      'graphics',
      'utility',
      'video',
    ]);
    // The toolkit mounts libnvidia-opencl.so.1 but no ICD file: the image names it for the OpenCL loader.
    expect(runtime.map(args).join('\n')).toMatch(/echo libnvidia-opencl.so.1 >\/etc\/OpenCL\/vendors\/nvidia.icd/);
    expect(env.get('NVIDIA_VISIBLE_DEVICES')).toBe('all');
    // The base-image choice is explained in the file.
    expect(readFileSync(path.join(ROOT, 'Dockerfile.nvidia'), 'utf8')).toMatch(/Why no nvidia\/cuda base image/);
  });

  it('Dockerfile.vaapi installs the Intel (iHD, i965) and AMD (Mesa) VA drivers, vainfo, and no root', () => {
    const runtime = stage(parse('Dockerfile.vaapi'), -1);
    const text = runtime.map(args).join('\n');
    // libmfx-gen1.2: Intel's VPL GPU runtime, what ffmpeg 7.1's libvpl QSV loads on Tiger Lake and newer.
    for (const pkg of ['vainfo', 'mesa-va-drivers', 'i965-va-driver', 'libmfx-gen1.2']) expect(text).toContain(pkg);
    expect(text).toMatch(/INTEL_MEDIA_DRIVER/);
    const arg = ofKind(runtime, 'ARG')
      .map(args)
      .find((a) => a.startsWith('INTEL_MEDIA_DRIVER='));
    expect(arg).toBe('INTEL_MEDIA_DRIVER=intel-media-va-driver-non-free');
    expect(text).toMatch(/usermod -a -G video node/);
    expect(ofKind(runtime, 'USER').map(args).at(-1)).toBe('node');
  });
});

describe('the lean runtime (Mesa GL, LLVM, z3 purged from the cpu and nvidia images)', () => {
  it.each(['Dockerfile.cpu', 'Dockerfile.nvidia'])(
    "%s purges trixie's package names and proves ffmpeg still links",
    (file) => {
      const text = stage(parse(file), -1).map(args).join('\n');
      expect(text).toMatch(/dpkg --purge --force-depends libgl1-mesa-dri mesa-libgallium libllvm19 libz3-4/);
      expect(text).toMatch(/ldd \/usr\/bin\/ffmpeg \/usr\/bin\/ffprobe \| grep 'not found'/);
    },
  );
});

describe.skipIf(process.platform === 'win32')('docker/entrypoint.sh (node flags of the image)', () => {
  // A `node` that prints its arguments, first on PATH: the script's exec is all there is to see.
  const stubs = mkdtempSync(path.join(tmpdir(), 'tw-entry-'));
  writeFileSync(path.join(stubs, 'node'), '#!/bin/sh\necho "node $*"\n');
  chmodSync(path.join(stubs, 'node'), 0o755);
  afterAll(() => rmSync(stubs, { recursive: true, force: true }));
  const entry = (args: string[], env: Record<string, string> = {}) =>
    spawnSync('sh', [path.join(ROOT, 'docker/entrypoint.sh'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${stubs}${path.delimiter}${process.env.PATH}`, ...env },
    }).stdout.trim();

  it('runs `start` under --lite-mode, every other command with V8 defaults, and can be told not to', () => {
    expect(entry(['start'])).toBe('node --lite-mode /app/dist/main.js start');
    expect(entry(['start', '--log-level', 'debug'])).toBe('node --lite-mode /app/dist/main.js start --log-level debug');
    for (const cmd of ['probe', 'run-job', 'demo', 'dev-orchestrator'])
      expect(entry([cmd, 'x'])).toBe(`node /app/dist/main.js ${cmd} x`);
    expect(entry(['start'], { TRANSCODE_WORKER_LITE_MODE: '0' })).toBe('node /app/dist/main.js start');
  });

  it('is executable in git (the Dockerfiles COPY it without chmod)', () => {
    const r = spawnSync('git', ['ls-files', '-s', 'docker/entrypoint.sh'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stdout).toMatch(/^100755 /);
  });

  it('`start` code uses neither fetch nor WebAssembly, which lite mode turns off (the one-shot commands may)', () => {
    const offenders: string[] = [];
    const oneShot = /^(demo\.ts|dev-orchestrator\/|docs\/)/;
    for (const file of readdirSync(path.join(ROOT, 'src'), { recursive: true }) as string[]) {
      const rel = file.split(path.sep).join('/');
      if (!rel.endsWith('.ts') || oneShot.test(rel)) continue;
      const text = readFileSync(path.join(ROOT, 'src', file), 'utf8').replace(/^\s*(\/\/|\*).*$/gm, '');
      if (/\bfetch\(|\bWebAssembly\b|from 'undici'/.test(text)) offenders.push(rel);
    }
    expect(offenders).toEqual([]);
  });
});

describe('.dockerignore', () => {
  it('sends only what the build reads (no host node_modules, dist or test media)', () => {
    const lines = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    const allowed = lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1));
    expect(allowed).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'src/', 'docker/healthcheck.mjs']),
    );
    expect(allowed.some((a) => /node_modules|dist|test/.test(a))).toBe(false);
    // Every file the Dockerfiles COPY from the context is allowed in.
    for (const file of FILES)
      for (const c of parse(file)
        .getCOPYs()
        .filter((c) => !c.getFlags().some((f) => f.getName() === 'from'))) {
        const sources = args(c).replace(/--\S+/g, '').trim().split(/\s+/).slice(0, -1);
        for (const s of sources)
          expect(
            allowed.some((a) => a.replace(/\/$/, '') === s.replace(/\/$/, '')),
            s,
          ).toBe(true);
      }
  });
});

describe('docker/healthcheck.mjs (the image HEALTHCHECK)', () => {
  async function withServer(status: number, fn: (port: number) => Promise<void>): Promise<void> {
    const server = http.createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? status : 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await fn((server.address() as AddressInfo).port);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  function runCheck(env: Record<string, string>): Promise<number | null> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'docker/healthcheck.mjs')], {
        env: { ...process.env, ...env },
        stdio: 'ignore',
      });
      child.on('exit', (code) => resolve(code));
    });
  }

  it('exits 0 when /healthz answers 200, with the wildcard bind address mapped to loopback', async () => {
    await withServer(200, async (port) => {
      expect(await runCheck({ WORKER_HTTP_PORT: String(port), WORKER_HTTP_HOST: '0.0.0.0' })).toBe(0);
    });
  });

  it('exits 1 when /healthz answers 503', async () => {
    await withServer(503, async (port) => {
      expect(await runCheck({ WORKER_HTTP_PORT: String(port), WORKER_HTTP_HOST: '127.0.0.1' })).toBe(1);
    });
  });

  it('exits 1 when nothing listens', async () => {
    let closedPort = 0;
    await withServer(200, async (port) => {
      closedPort = port;
    });
    expect(await runCheck({ WORKER_HTTP_PORT: String(closedPort) })).toBe(1);
  });
});
