/**
 * Configuration: one convict schema, four sources. Precedence, highest first:
 *   CLI flags (--orchestrator-url ...) > environment (WORKER_*) > YAML file (--config / WORKER_CONFIG / ./config.yml) > defaults.
 *
 * The schema (config-schema.ts) is the single source of truth: the Config type is derived from it, and
 * config-example.yml, docs/config.md and the CLI's flags come from it.
 */
import convict from 'convict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
// config-formats registers convict's custom formats on import: it must load before convict reads the schema.
import { describeFormat } from './config-formats.js';
import { configSchema, schemaLeaves, type ConfigOf, type SchemaLeaf } from './config-schema.js';
import { ConfigError } from './errors.js';
import { REDACTED, redactUrl, redactUrlsIn, secretsOf } from './util/redact.js';

export type Config = ConfigOf<typeof configSchema>;

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
  // convict's Schema type wants mutable format arrays; the schema is `as const` so that Config can be derived from it.
  const conf = convict(configSchema as unknown as convict.Schema<Config>, { env, args: opts.args ?? [] });

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
