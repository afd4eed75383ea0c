/**
 * compose.yaml, offline: the Compose Spec linter (dclint) passes, Debian's docker-compose 1.29 accepts every
 * profile (when installed), and the file agrees with the images, .env.example, the Prometheus config, the Grafana
 * provisioning and the metrics the worker really exports.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createMetrics } from '../../src/metrics.js';
import { Job } from '../../src/protocol/schemas.js';
import { checkSchema } from '../../src/protocol/validate.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');
const PROFILES = ['cpu', 'nvidia', 'vaapi', 'demo', 'monitoring'] as const;
const WORKERS = { cpu: 'worker-cpu', nvidia: 'worker-nvidia', vaapi: 'worker-vaapi' } as const;

type Service = {
  profiles?: string[];
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
  restart?: string;
  devices?: string[];
  group_add?: string[];
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  command?: string[];
  entrypoint?: string[];
  deploy?: { resources?: { reservations?: { devices?: { driver: string; capabilities: string[] }[] } } };
};
const compose = parseYaml(read('compose.yaml')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;

function dockerComposeVersion(): string | undefined {
  const r = spawnSync('docker-compose', ['version', '--short'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
const dcVersion = dockerComposeVersion();
if (!dcVersion)
  console.warn('[packaging] docker-compose not found: `docker-compose config` checks are SKIPPED (dclint still runs)');

const seconds = (d: string | undefined) => {
  const m = /^(\d+)(s|m)$/.exec(d ?? '');
  return m ? Number(m[1]) * (m[2] === 'm' ? 60 : 1) : 0;
};
/** "host:container[:mode]" -> container path (a ${VAR:-default} host part may hold colons). */
const targetOf = (v: string) => v.replace(/\$\{[^}]*\}/g, 'VAR').split(':')[1]!;

describe('compose.yaml: linters', () => {
  it('passes dclint (Compose Spec schema + the rules in .dclintrc)', () => {
    const r = spawnSync(path.join(ROOT, 'node_modules/.bin/dclint'), ['compose.yaml'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stdout + r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);
  });

  it('dclint rejects an unknown service key (the schema check is live)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dclint-'));
    try {
      writeFileSync(path.join(dir, 'compose.yaml'), "services:\n  a:\n    image: 'x:1'\n    enviroment: { A: b }\n");
      const r = spawnSync(path.join(ROOT, 'node_modules/.bin/dclint'), [path.join(dir, 'compose.yaml')], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stdout + r.stderr).toMatch(/invalid-schema/);
      expect(r.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // One run with every profile enabled validates every service (scripts/ci-containers.sh also runs them one by one).
  it.skipIf(!dcVersion)('docker-compose 1.29 `config` accepts every profile', () => {
    const r = spawnSync(
      'docker-compose',
      ['-f', 'compose.yaml', ...PROFILES.flatMap((p) => ['--profile', p]), 'config'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, COMPOSE_PROJECT_NAME: 'tw-config-test' },
        timeout: 60_000,
      },
    );
    expect(r.stderr).not.toMatch(/ERROR|Unsupported/);
    expect(r.status).toBe(0);
    const rendered = parseYaml(r.stdout) as { services: Record<string, unknown> };
    expect(Object.keys(rendered.services).sort()).toEqual(Object.keys(services).sort());
  });

  it.skipIf(!dcVersion)('docker-compose rejects a misspelled key (the check is live)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dc-'));
    try {
      writeFileSync(path.join(dir, 'compose.yaml'), "services:\n  a:\n    image: 'x:1'\n    enviroment: { A: b }\n");
      const r = spawnSync('docker-compose', ['-f', path.join(dir, 'compose.yaml'), 'config', '-q'], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stderr).toMatch(/enviroment/);
      expect(r.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('compose.yaml: services', () => {
  it('puts every service in a profile, and each worker profile has exactly one worker', () => {
    for (const [name, s] of Object.entries(services)) expect(s.profiles?.length, name).toBeGreaterThan(0);
    for (const [profile, worker] of Object.entries(WORKERS)) {
      const inProfile = Object.entries(services).filter(([, s]) => s.profiles?.includes(profile));
      expect(inProfile.map(([n]) => n)).toEqual([worker]);
    }
  });

  it.each(Object.entries(WORKERS))(
    '%s worker: its image, restart, grace period, health check, hardening, mounts',
    (profile, name) => {
      const s = services[name]!;
      expect(s.build?.dockerfile).toBe(`Dockerfile.${profile}`);
      expect(existsSync(path.join(ROOT, s.build!.dockerfile))).toBe(true);
      expect(s.image).toBe(`transcode-worker:${profile}`);
      expect(s.restart).toBe('unless-stopped');
      // The worker needs ~10 s to shut down; Docker's default of 10 s would SIGKILL it mid-way.
      expect(seconds(s.stop_grace_period)).toBeGreaterThanOrEqual(20);
      expect(s.healthcheck?.test).toEqual(['CMD', 'node', '/app/healthcheck.mjs']);
      expect(s.read_only).toBe(true);
      expect(s.cap_drop).toEqual(['ALL']);
      expect(s.security_opt).toContain('no-new-privileges:true');
      // The mounts land where the image's ENV points the worker.
      const targets = (s.volumes ?? []).map(targetOf);
      expect(targets).toEqual(
        expect.arrayContaining(['/data/nas', '/var/tmp/transcode-worker', '/var/lib/transcode-worker']),
      );
      expect(s.environment?.WORKER_ORCHESTRATOR_URL).toMatch(/\$\{WORKER_ORCHESTRATOR_URL:-http/);
      expect(s.environment?.WORKER_ID).toMatch(/\$\{WORKER_ID:-/);
    },
  );

  it('reserves NVIDIA GPUs with the video capability for the nvidia worker', () => {
    const s = services['worker-nvidia']!;
    const devices = s.deploy?.resources?.reservations?.devices ?? [];
    expect(devices).toHaveLength(1);
    expect(devices[0]!.driver).toBe('nvidia');
    expect(devices[0]!.capabilities).toEqual(expect.arrayContaining(['gpu', 'video']));
    expect(s.environment?.NVIDIA_DRIVER_CAPABILITIES).toContain('video');
  });

  it('gives the vaapi worker /dev/dri and the render group, without root', () => {
    const s = services['worker-vaapi']!;
    expect(s.devices).toEqual(['/dev/dri:/dev/dri']);
    expect(s.group_add?.[0]).toMatch(/^\$\{RENDER_GID:-\d+\}$/);
    expect(JSON.stringify(s)).not.toMatch(/"user":\s*"(0|root)/);
  });

  it('demo: orchestrator, worker and job share the demo NAS and need nothing from .env', () => {
    const demo = Object.entries(services).filter(([, s]) => s.profiles?.includes('demo'));
    expect(demo.map(([n]) => n).sort()).toEqual(['demo-job', 'demo-worker', 'dev-orchestrator']);
    for (const [, s] of demo) {
      expect(s.volumes).toContain('demo-nas:/data/nas');
      expect(JSON.stringify(s)).not.toMatch(/\$\{(?![A-Z_]+:-)/); // every variable has a default
    }
    expect(services['dev-orchestrator']!.command?.[0]).toBe('dev-orchestrator');
    expect(services['demo-worker']!.environment?.WORKER_ORCHESTRATOR_URL).toBe('http://dev-orchestrator:8080');
    expect(services['demo-job']!.entrypoint).toContain('/demo/run-demo.mjs');
    expect(existsSync(path.join(ROOT, 'docker/demo/run-demo.mjs'))).toBe(true);
  });

  it('the demo job is a valid protocol Job once the orchestrator gives it an id', () => {
    const job = JSON.parse(read('docker/demo/job.json')) as Record<string, unknown>;
    expect(checkSchema(Job, { job_id: 'demo-1', ...job })).toBeNull();
    expect(checkSchema(Job, { job_id: 'demo-1', ...job, outputs: [] })).not.toBeNull();
  });

  it('every bind-mounted repository file exists and every named volume is declared', () => {
    for (const [name, s] of Object.entries(services))
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (source.startsWith('./')) expect(existsSync(path.join(ROOT, source)), `${name}: ${source}`).toBe(true);
        else if (!source.startsWith('$') && !source.startsWith('/'))
          expect(compose.volumes, `${name}: ${source}`).toHaveProperty(source);
      }
  });

  it('.env.example lists the values a user sets, and every one is used by compose.yaml', () => {
    const env = read('.env.example');
    const keys = [...env.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]!);
    expect(keys).toEqual(expect.arrayContaining(['WORKER_ORCHESTRATOR_URL', 'WORKER_ID', 'NAS_PATH', 'RENDER_GID']));
    const text = read('compose.yaml');
    for (const k of keys) expect(text, k).toContain(`\${${k}`);
  });
});

describe('monitoring: Prometheus and Grafana provisioning', () => {
  const prom = parseYaml(read('docker/prometheus/prometheus.yml')) as {
    scrape_configs: {
      job_name: string;
      static_configs?: { targets: string[] }[];
      file_sd_configs?: { files: string[] }[];
    }[];
  };

  it('Prometheus scrapes every compose worker on 9470 and reads file_sd targets from the mounted folder', () => {
    const job = prom.scrape_configs.find((j) => j.job_name === 'transcode-worker')!;
    const targets = job.static_configs!.flatMap((c) => c.targets);
    for (const name of [...Object.values(WORKERS), 'demo-worker']) expect(targets).toContain(`${name}:9470`);
    expect(job.file_sd_configs?.[0]?.files).toEqual(['/etc/prometheus/targets/*.yml']);
    const mounts = services.prometheus!.volumes!;
    expect(mounts).toContain('./docker/prometheus/targets:/etc/prometheus/targets:ro');
    for (const f of readdirSync(path.join(ROOT, 'docker/prometheus/targets')))
      expect(Array.isArray(parseYaml(read(`docker/prometheus/targets/${f}`)))).toBe(true);
  });

  it('the dashboard uses the provisioned datasource and only metrics the worker exports', async () => {
    const ds = parseYaml(read('docker/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { uid: string; url: string }[];
    };
    const uid = ds.datasources[0]!.uid;
    expect(ds.datasources[0]!.url).toBe('http://prometheus:9090');
    const dashDir = 'docker/grafana/dashboards';
    const provider = parseYaml(read('docker/grafana/provisioning/dashboards/transcode-worker.yml')) as {
      providers: { options: { path: string } }[];
    };
    expect(services.grafana!.volumes).toContain(`./${dashDir}:${provider.providers[0]!.options.path}:ro`);

    const metrics = createMetrics();
    const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
    exported.add('up');
    type Panel = { title: string; type: string; datasource?: { uid: string }; targets?: { expr: string }[] };
    const dash = JSON.parse(read(`${dashDir}/transcode-workers.json`)) as { uid: string; panels: Panel[] };
    const panels = dash.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(10);
    const used = new Set<string>();
    for (const p of panels) {
      expect(p.datasource?.uid, p.title).toBe(uid);
      for (const t of p.targets ?? [])
        for (const m of t.expr.matchAll(
          /\b(transcode_worker_[a-z_]+|process_[a-z_]+|nodejs_[a-z_]+|up)\b(?=\s*[{[(]|\s*$|\s)/g,
        ))
          used.add(m[1]!.replace(/_(bucket|sum|count)$/, ''));
    }
    expect([...used].filter((m) => !exported.has(m))).toEqual([]);
    // The list: jobs, progress, fps, busy, sync errors, encoder availability, CPU, RAM.
    for (const m of [
      'transcode_worker_jobs_total',
      'transcode_worker_job_progress_ratio',
      'transcode_worker_job_fps',
      'transcode_worker_busy',
      'transcode_worker_sync_requests_total',
      'transcode_worker_encoder_available',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
    ])
      expect(used, m).toContain(m);
  });
});
