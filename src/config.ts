/**
 * Configuration: one convict schema, four sources. Precedence, highest first:
 *   CLI flags (--orchestrator-url ...) > environment (WORKER_*) > YAML file (--config / WORKER_CONFIG / ./config.yml) > defaults.
 *
 * The schema is the single source of truth: config-example.yml and docs/config.md are checked against it by a test,
 * and the CLI's flags are generated from it.
 */
import convict from 'convict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors.js';
import { RESOLUTION_LABELS, type ResolutionLabel } from './media/resolutions.js';
import { REDACTED, redactUrl, redactUrlsIn, secretsOf } from './util/redact.js';

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "500ms", "10s", "1m", "2h" or a bare number of milliseconds -> milliseconds. */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  const m = typeof value === 'string' ? DURATION_RE.exec(value.trim()) : null;
  if (!m) throw new Error('expected a duration such as "500ms", "10s" or "1m"');
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!);
}

convict.addFormat({
  name: 'duration',
  validate(v: unknown) {
    parseDuration(v);
  },
  // Coercion must not throw (convict coerces env values while constructing); validate() reports bad values.
  coerce: (v: unknown) => {
    try {
      return parseDuration(v);
    } catch {
      return v;
    }
  },
});

convict.addFormat({
  name: 'http-url',
  validate(v: unknown) {
    let ok = false;
    try {
      const u = new URL(String(v));
      ok = u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) throw new Error('expected an http:// or https:// URL');
  },
});

convict.addFormat({
  name: 'percent',
  validate(v: unknown) {
    if (typeof v !== 'number' || !(v > 0 && v <= 100)) throw new Error('expected a number above 0 and at most 100');
  },
  coerce: (v: unknown) => (v === '' || Number.isNaN(Number(v)) ? v : Number(v)),
});

convict.addFormat({
  name: 'non-empty',
  validate(v: unknown) {
    if (typeof v !== 'string' || v.trim() === '') throw new Error('expected a non-empty string');
  },
});

function defaultStateDir(): string {
  if (process.platform === 'win32') {
    const base = process.env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local');
    return path.join(base, 'transcode-worker', 'state');
  }
  const xdg = process.env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state');
  return path.join(xdg, 'transcode-worker');
}

export const configSchema = {
  orchestrator_url: {
    doc: 'Base URL of the orchestrator (the /api/v1/... paths are appended). A user:password@ in it is sent as HTTP Basic authentication (instead of auth_token) and never shown: /status and the logs show [redacted]@.',
    format: 'http-url',
    default: 'http://127.0.0.1:8080',
    env: 'WORKER_ORCHESTRATOR_URL',
    arg: 'orchestrator-url',
  },
  worker_id: {
    doc: 'Name this worker registers under. Must be unique in the farm.',
    format: 'non-empty',
    default: os.hostname(),
    defaultDoc: 'the host name',
    env: 'WORKER_ID',
    arg: 'worker-id',
  },
  auth_token: {
    doc: 'Bearer token sent as "Authorization: Bearer <token>" when set.',
    format: String,
    default: '',
    sensitive: true,
    env: 'WORKER_AUTH_TOKEN',
    arg: 'auth-token',
  },
  ca_file: {
    doc: 'PEM file of extra certificate authorities to trust for an https:// orchestrator, on top of the ones Node trusts anyway (its bundled roots and NODE_EXTRA_CA_CERTS).',
    format: String,
    default: '',
    env: 'WORKER_CA_FILE',
    arg: 'ca-file',
  },
  request_timeout: {
    doc: 'Longest time one HTTP request to the orchestrator may take, from connecting to the last byte of the answer (and the longest it may stay silent); at least 100ms. Redirects are never followed and answers over 1 MiB are refused.',
    format: 'duration',
    default: '10s',
    env: 'WORKER_REQUEST_TIMEOUT',
    arg: 'request-timeout',
  },
  retry_max_delay: {
    doc: 'Longest wait between two attempts to register or deliver a result (exponential backoff with full jitter up to this).',
    format: 'duration',
    default: '30s',
    env: 'WORKER_RETRY_MAX_DELAY',
    arg: 'retry-max-delay',
  },
  nas_mount_path: {
    doc: 'Folder where the NAS is mounted. Every source_url and dest_path resolves inside it.',
    format: 'non-empty',
    default: process.platform === 'win32' ? 'Z:\\' : '/mnt/nas',
    defaultDoc: '/mnt/nas (Z:\\ on Windows)',
    env: 'WORKER_NAS_MOUNT_PATH',
    arg: 'nas-mount-path',
  },
  temp_dir: {
    doc: 'Local staging folder for job outputs before the commit (may be a tmpfs; needs room for one job).',
    format: 'non-empty',
    default: path.join(os.tmpdir(), 'transcode-worker'),
    defaultDoc: '<OS temp folder>/transcode-worker',
    env: 'WORKER_TEMP_DIR',
    arg: 'temp-dir',
  },
  state_dir: {
    doc: 'Persistent folder for the durable records (running job, undelivered results, probe cache). Must survive reboots: not inside temp_dir.',
    format: 'non-empty',
    default: defaultStateDir(),
    defaultDoc:
      '$XDG_STATE_HOME/transcode-worker (~/.local/state/transcode-worker); %LOCALAPPDATA%\\transcode-worker\\state on Windows',
    env: 'WORKER_STATE_DIR',
    arg: 'state-dir',
  },
  sync_interval: {
    doc: 'Time between two syncs (heartbeat + job assignment).',
    format: 'duration',
    default: '10s',
    env: 'WORKER_SYNC_INTERVAL',
    arg: 'sync-interval',
  },
  progress_interval: {
    doc: 'Time between two progress reports while a job runs.',
    format: 'duration',
    default: '2s',
    env: 'WORKER_PROGRESS_INTERVAL',
    arg: 'progress-interval',
  },
  stall_timeout: {
    doc: 'A job whose ffmpeg reports no progress for this long is killed and failed.',
    format: 'duration',
    default: '120s',
    env: 'WORKER_STALL_TIMEOUT',
    arg: 'stall-timeout',
  },
  shutdown_timeout: {
    doc: 'On SIGTERM, how long to wait for the orchestrator to accept the final FAILED result before exiting.',
    format: 'duration',
    default: '5s',
    env: 'WORKER_SHUTDOWN_TIMEOUT',
    arg: 'shutdown-timeout',
  },
  log_level: {
    doc: 'Log level.',
    format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    env: 'WORKER_LOG_LEVEL',
    arg: 'log-level',
  },
  http: {
    host: {
      doc: 'Address of the health/metrics server. Use 127.0.0.1 to keep it local.',
      format: 'non-empty',
      default: '0.0.0.0',
      env: 'WORKER_HTTP_HOST',
      arg: 'http-host',
    },
    port: {
      doc: 'Port of the health/metrics server (0 picks a free one).',
      format: 'port',
      default: 9470,
      env: 'WORKER_HTTP_PORT',
      arg: 'http-port',
    },
  },
  ffmpeg_path: {
    doc: 'ffmpeg executable (a path, or a name looked up in PATH).',
    format: 'non-empty',
    default: 'ffmpeg',
    env: 'WORKER_FFMPEG_PATH',
    arg: 'ffmpeg-path',
  },
  ffprobe_path: {
    doc: 'ffprobe executable (a path, or a name looked up in PATH).',
    format: 'non-empty',
    default: 'ffprobe',
    env: 'WORKER_FFPROBE_PATH',
    arg: 'ffprobe-path',
  },
  hwaccel: {
    doc: 'Which hardware family may be used: auto (whatever the probe verified), none (software only), or one family.',
    format: ['auto', 'none', 'nvenc', 'qsv', 'vaapi', 'v4l2m2m'],
    default: 'auto',
    env: 'WORKER_HWACCEL',
    arg: 'hwaccel',
  },
  vaapi_device: {
    doc: 'VAAPI/QSV render node; empty means the first /dev/dri/renderD* found.',
    format: String,
    default: '',
    env: 'WORKER_VAAPI_DEVICE',
    arg: 'vaapi-device',
  },
  max_resolution: {
    doc: 'Cap on the max_resolution this worker declares (a weak box may not want 4K jobs). "auto": no cap.',
    format: ['auto', ...RESOLUTION_LABELS],
    default: 'auto',
    env: 'WORKER_MAX_RESOLUTION',
    arg: 'max-resolution',
  },
  probe_timeout: {
    doc: 'Time limit of one test encode during capability probing.',
    format: 'duration',
    default: '15s',
    env: 'WORKER_PROBE_TIMEOUT',
    arg: 'probe-timeout',
  },
  allow_software_fallback: {
    doc: 'When the requested hardware encoder is missing or fails, encode with the software equivalent instead of failing.',
    format: Boolean,
    default: true,
    env: 'WORKER_ALLOW_SOFTWARE_FALLBACK',
    arg: 'allow-software-fallback',
  },
  x264_preset: {
    doc: 'Preset of libx264/libx265 (speed vs size). "auto" picks by host: veryfast on small ARM boards, fast elsewhere.',
    format: ['auto', 'ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'],
    default: 'auto',
    env: 'WORKER_X264_PRESET',
    arg: 'x264-preset',
  },
  commit_concurrency: {
    doc: 'How many files are copied to the NAS at once during the commit.',
    format: 'nat',
    default: 4,
    env: 'WORKER_COMMIT_CONCURRENCY',
    arg: 'commit-concurrency',
  },
  busy_cpu_percent: {
    doc: 'Above this host CPU load (from any process) the worker reports BUSY so the host is left alone.',
    format: 'percent',
    default: 80,
    env: 'WORKER_BUSY_CPU_PERCENT',
    arg: 'busy-cpu-percent',
  },
  busy_ram_percent: {
    doc: 'Above this host RAM use the worker reports BUSY.',
    format: 'percent',
    default: 90,
    env: 'WORKER_BUSY_RAM_PERCENT',
    arg: 'busy-ram-percent',
  },
};

export interface Config {
  orchestrator_url: string;
  worker_id: string;
  auth_token: string;
  ca_file: string;
  request_timeout: number;
  retry_max_delay: number;
  nas_mount_path: string;
  temp_dir: string;
  state_dir: string;
  sync_interval: number;
  progress_interval: number;
  stall_timeout: number;
  shutdown_timeout: number;
  log_level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  http: { host: string; port: number };
  ffmpeg_path: string;
  ffprobe_path: string;
  hwaccel: 'auto' | 'none' | 'nvenc' | 'qsv' | 'vaapi' | 'v4l2m2m';
  vaapi_device: string;
  max_resolution: 'auto' | ResolutionLabel;
  probe_timeout: number;
  allow_software_fallback: boolean;
  x264_preset: 'auto' | 'ultrafast' | 'superfast' | 'veryfast' | 'faster' | 'fast' | 'medium' | 'slow';
  commit_concurrency: number;
  busy_cpu_percent: number;
  busy_ram_percent: number;
}

export interface SchemaLeaf {
  key: string;
  doc: string;
  default: unknown;
  defaultDoc?: string;
  env?: string;
  arg?: string;
  format: unknown;
  sensitive?: boolean;
}

/** The schema flattened to dotted keys, in declaration order. */
export function schemaLeaves(schema: Record<string, unknown> = configSchema, prefix = ''): SchemaLeaf[] {
  const out: SchemaLeaf[] = [];
  for (const [k, v] of Object.entries(schema)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && 'doc' in v) out.push({ key, ...(v as Omit<SchemaLeaf, 'key'>) });
    else out.push(...schemaLeaves(v as Record<string, unknown>, key));
  }
  return out;
}

/** Human description of what a key accepts, for error messages and docs. */
export function describeFormat(leaf: SchemaLeaf): string {
  const f = leaf.format;
  if (Array.isArray(f)) return `one of ${f.join(', ')}`;
  switch (f) {
    case 'duration':
      return 'a duration such as "500ms", "10s" or "1m"';
    case 'http-url':
      return 'an http:// or https:// URL';
    case 'percent':
      return 'a number above 0 and at most 100';
    case 'port':
      return 'a port number (0-65535)';
    case 'nat':
      return 'a whole number';
    case 'non-empty':
      return 'a non-empty string';
    case Boolean:
      return 'true or false';
    default:
      return 'a string';
  }
}

export interface LoadConfigOptions {
  /** Raw CLI flags in convict form, e.g. ['--orchestrator-url', 'http://x']. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Explicit config file (from --config). Falls back to env WORKER_CONFIG, then ./config.yml when present. */
  configFile?: string;
  cwd?: string;
  /** Check that nas_mount_path exists (start and run-job need it; probe does not). */
  requireNas?: boolean;
}

function findLeaf(key: string): SchemaLeaf | undefined {
  return schemaLeaves().find((l) => l.key === key);
}

/** Turns convict's validation text into one line that names the key, the value and what was expected. */
function toConfigError(err: unknown, source: string, valueOf?: (key: string) => unknown): ConfigError {
  const text = err instanceof Error ? err.message : String(err);
  const first = text.split('\n')[0] ?? text;
  const m = /^([\w.]+): (?:.*?)(?:: value was (.*))?$/.exec(first);
  if (m) {
    const leaf = findLeaf(m[1]!);
    if (leaf) {
      const raw = m[2] ?? (valueOf ? JSON.stringify(valueOf(leaf.key)) : undefined) ?? '(empty)';
      const shown = leaf.sensitive ? `"${REDACTED}"` : leaf.format === 'http-url' ? redactUrl(raw) : raw;
      return new ConfigError(`invalid ${leaf.key} = ${shown}: expected ${describeFormat(leaf)}${source}`);
    }
  }
  const unknown = /configuration param '([^']+)' not declared in the schema/.exec(first);
  if (unknown) return new ConfigError(`unknown configuration key ${unknown[1]}${source}`);
  return new ConfigError(`${redactUrlsIn(first)}${source}`);
}

function loadYamlFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (data == null) return {};
  if (typeof data !== 'object' || Array.isArray(data))
    throw new ConfigError(`config file ${file} must be a mapping of keys to values`);
  return data as Record<string, unknown>;
}

/** Loads and validates the configuration. Throws ConfigError (one line) on any bad value, before any I/O but file reads. */
export function loadConfig(opts: LoadConfigOptions = {}): Readonly<Config> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const conf = convict(configSchema, { env, args: opts.args ?? [] });

  const explicit = opts.configFile ?? env.WORKER_CONFIG;
  const file = explicit ? path.resolve(cwd, explicit) : path.join(cwd, 'config.yml');
  let source = '';
  if (explicit || existsSync(file)) {
    if (explicit && !existsSync(file)) throw new ConfigError(`config file not found: ${file}`);
    try {
      conf.load(loadYamlFile(file));
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw toConfigError(err, ` (in ${file})`);
    }
    source = ` (check ${file}, the WORKER_* environment and the command line)`;
  }
  try {
    conf.validate({ allowed: 'strict' });
  } catch (err) {
    throw toConfigError(err, source, (k) => conf.get(k as never));
  }
  const config = conf.getProperties() as unknown as Config;
  if (config.progress_interval < 50) throw new ConfigError('invalid progress_interval: must be at least 50ms');
  if (config.sync_interval < 50) throw new ConfigError('invalid sync_interval: must be at least 50ms');
  // 0 would not mean "no limit": every call would be cancelled at once.
  if (config.request_timeout < 100) throw new ConfigError('invalid request_timeout: must be at least 100ms');

  const resolved: Config = {
    ...config,
    nas_mount_path: path.resolve(cwd, config.nas_mount_path),
    temp_dir: path.resolve(cwd, config.temp_dir),
    state_dir: path.resolve(cwd, config.state_dir),
    http: { ...config.http },
  };
  if (opts.requireNas) assertNasFolder(resolved.nas_mount_path);
  if (isInside(resolved.temp_dir, resolved.state_dir))
    throw new ConfigError(
      `invalid state_dir = "${resolved.state_dir}": it must not be inside temp_dir (${resolved.temp_dir}), which may be wiped`,
    );
  // The commands that run jobs (they require the NAS) write both folders: a result that cannot be recorded in
  // state_dir would be lost at the next crash, so refuse to start rather than find out mid-job.
  if (opts.requireNas) {
    assertWritableFolder('state_dir', resolved.state_dir);
    assertWritableFolder('temp_dir', resolved.temp_dir);
  }
  return Object.freeze({ ...resolved, http: Object.freeze(resolved.http) });
}

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Creates the folder if needed and writes (then removes) a small file in it. */
export function assertWritableFolder(key: 'state_dir' | 'temp_dir', dir: string): void {
  const probe = path.join(dir, `.write-test-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    throw new ConfigError(`invalid ${key} = "${dir}": expected a folder the worker can create and write (${code})`);
  }
}

export function assertNasFolder(nas: string): void {
  let ok = false;
  try {
    ok = statSync(nas).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok)
    throw new ConfigError(`invalid nas_mount_path = "${nas}": expected an existing folder (is the NAS mounted?)`);
}

/** The literal secrets of a configuration, for the scrubbers of logs and of the health server's answers. */
export function configSecrets(config: Pick<Config, 'auth_token' | 'orchestrator_url'>): string[] {
  return secretsOf({ authToken: config.auth_token, urls: [config.orchestrator_url] });
}
