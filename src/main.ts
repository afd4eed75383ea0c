#!/usr/bin/env node
/**
 * CLI entry: parses the sub-command, loads the configuration, installs signal handlers. This is the only module that
 * calls process.exit. Sub-commands load their modules lazily so `start` does not pay for the demo or the dev
 * orchestrator in memory.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { configSecrets, loadConfig, type Config } from './config.js';
import { describeFormat } from './config-formats.js';
import { schemaLeaves } from './config-schema.js';
import { ConfigError, errorMessage } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { VERSION } from './version.js';
import { onDrainSignal, onShutdownSignal } from './util/signals.js';
import { parseDuration } from './config-formats.js';
import { workHoursOf } from './worker/work-window.js';

// nvidia-smi numbers GPUs by PCI bus; CUDA (and so ffmpeg's -hwaccel_device and nvenc's -gpu) numbers them fastest
// first unless told otherwise. One numbering for both, so the GPU chosen from nvidia-smi is the one ffmpeg opens.
process.env.CUDA_DEVICE_ORDER ??= 'PCI_BUS_ID';

interface ConfigFlags {
  config?: string;
  [key: string]: unknown;
}

/** Every config key becomes a flag (--orchestrator-url, --http-port, ...), generated from the schema so they never drift. */
function addConfigOptions(cmd: Command): Command {
  cmd.option('-c, --config <file>', 'YAML config file (default: $WORKER_CONFIG, else ./config.yml when present)');
  for (const leaf of schemaLeaves()) {
    if (!leaf.arg) continue;
    const opt = new Option(`--${leaf.arg} <value>`, `${leaf.doc} [${leaf.key}; ${describeFormat(leaf)}]`);
    cmd.addOption(opt);
  }
  return cmd;
}

function configArgs(flags: ConfigFlags): string[] {
  const args: string[] = [];
  for (const leaf of schemaLeaves()) {
    if (!leaf.arg) continue;
    const camel = leaf.arg.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const v = flags[camel];
    if (v !== undefined) args.push(`--${leaf.arg}`, String(v));
  }
  return args;
}

function readConfig(flags: ConfigFlags, requireNas: boolean): Config {
  const config = loadConfig({ args: configArgs(flags), configFile: flags.config, requireNas });
  workHoursOf(config); // a bad work_hours is a config error (exit 2) for every command, not a surprise at start
  // ffmpeg's CUDA filters (scale_cuda, yadif_cuda) ship as PTX that the driver compiles on first use: 6.6-8.5 s
  // per ffmpeg run on an H200 when the compiled kernels cannot be cached, 0.9 s with the cache (bench/
  // gpu-results.md). The driver caches in ~/.nv, which a read-only container or a service user without a home
  // cannot write, so every job would pay it: keep the cache in state_dir, which is persistent and writable.
  process.env.CUDA_CACHE_PATH ??= path.join(config.state_dir, 'cuda-cache');
  return config;
}

/** User errors: one line, no stack trace, exit 2. Anything else is a bug worth a stack. */
function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`transcode-worker: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`transcode-worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

/**
 * The one graceful stop of the service, with a hard deadline. Asked by the first SIGINT/SIGTERM (SIGBREAK on
 * Windows), or by a finished drain with exit; a signal while a signal's stop runs exits at once (one while a drain's
 * stop runs only makes it a signal's: Kubernetes sends SIGTERM when preStop returns).
 */
function gracefulStopper(
  log: Logger,
  stop: () => Promise<void>,
  hardDeadlineMs = 10_000,
): (why: { signal: NodeJS.Signals } | 'drain') => void {
  let stopping: 'signal' | 'drain' | undefined;
  return (why) => {
    if (stopping === 'signal' && why !== 'drain') {
      log.warn({ signal: why.signal }, 'second signal: exiting now');
      process.exit(130);
    }
    if (stopping) {
      if (why !== 'drain') stopping = 'signal';
      return;
    }
    stopping = why === 'drain' ? 'drain' : 'signal';
    if (why === 'drain') log.info('drained: stopping (drain --exit)');
    else log.info({ signal: why.signal }, 'signal received: shutting down gracefully (send it again to exit at once)');
    const deadline = setTimeout(() => {
      log.error('graceful shutdown took too long; exiting');
      process.exit(1);
    }, hardDeadlineMs);
    deadline.unref();
    stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err: errorMessage(err) }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
}

/**
 * Last resort only: every promise in src/ is awaited or handled where it is made (see the invariants in
 * src/worker/worker.ts). Should one slip through, Node's default would end the process and take the results held in
 * memory (those a full state_dir could not take yet) with it; a loud log line and a running worker are better.
 */
function logUnhandledRejections(log: Logger): void {
  process.on('unhandledRejection', (reason) => {
    log.fatal(
      { err: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason) },
      'unhandled promise rejection (a bug: please report it); the worker keeps running',
    );
  });
}

async function cmdStart(flags: ConfigFlags): Promise<void> {
  const config = readConfig(flags, true);
  const log = createLogger({ level: config.log_level, secrets: configSecrets(config) });
  logUnhandledRejections(log);
  // SIGUSR2 (drain) is caught before the lock is taken: `transcode-worker drain` signals whoever holds the lock, and
  // SIGUSR2's default action would end the process. One that arrives before the worker exists is kept for it.
  const drain: { pending: boolean; bySignal?: () => Promise<void> } = { pending: false };
  onDrainSignal(() => {
    if (drain.bySignal) void drain.bySignal();
    else drain.pending = true;
  });
  // One worker per state_dir, taken before anything reads it: a second one exits 2 naming the first
  // (StateDirInUseError). Released when this process exits; a SIGKILL leaves a stale lock the next start takes over.
  // run-job does not take it: it keeps no running-job record or outbox, only reads and atomically replaces the
  // capability cache, so it can run beside a service.
  const { acquireStateLock } = await import('./worker/state-lock.js');
  await acquireStateLock(config.state_dir, log);
  const { createApp } = await import('./app.js');
  const app = createApp(config, log);
  const stopGracefully = gracefulStopper(log, () => app.stop(), Math.max(10_000, config.shutdown_timeout + 5000));
  onShutdownSignal((signal) => stopGracefully({ signal }));
  app.worker.onDrainedForExit(() => stopGracefully('drain'));
  // Never rejects: the drain logs its own failures.
  drain.bySignal = () => app.worker.drainBySignal();
  if (drain.pending) void drain.bySignal();
  await app.start();
}

async function cmdProbe(flags: ConfigFlags & { refresh?: boolean; verbose?: boolean; json?: boolean }): Promise<void> {
  const config = readConfig(flags, false);
  const log = createLogger({
    level: flags.verbose ? config.log_level : 'warn',
    pretty: false,
    destination: process.stderr,
    secrets: configSecrets(config),
  });
  const { runProbeCommand } = await import('./capabilities/probe-command.js');
  const code = await runProbeCommand({
    config,
    log,
    refresh: Boolean(flags.refresh),
    verbose: Boolean(flags.verbose),
    json: Boolean(flags.json),
    out: process.stdout,
    workerVersion: VERSION,
  });
  process.exit(code);
}

/**
 * SIGINT/SIGTERM (SIGBREAK on Windows) during run-job: abort the job (ffmpeg stopped, staging removed, nothing
 * committed) and let it end as a FAILED payload with exit 1. Armed before the probe, so a Ctrl-C at any moment ends
 * the same way. A second signal exits at once, for when the cleanup itself hangs (a dead NAS mount).
 */
function abortOnSignals(reason: (signal: NodeJS.Signals) => string): AbortSignal {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`transcode-worker: second ${signal}: exiting now\n`);
      process.exit(1);
    }
    controller.abort(reason(signal));
  };
  onShutdownSignal(handler);
  return controller.signal;
}

type RunJobFlags = ConfigFlags & { part?: string | boolean; partCount?: string; stitch?: boolean };

async function cmdRunJob(file: string, flags: RunJobFlags): Promise<void> {
  const config = readConfig(flags, true);
  const log = createLogger({
    level: config.log_level === 'info' ? 'warn' : config.log_level,
    pretty: false,
    destination: process.stderr,
    secrets: configSecrets(config),
  });
  const { runJobCommand, interruptedReason, EXIT_BAD_FILE } = await import('./job/run-job-command.js');
  const split = { part: flags.part, partCount: flags.partCount, stitch: flags.stitch };
  // runJobCommand checks the flags too; checking here as well spares a wrong command line the capability probe.
  const { parseSplitFlags, SplitFlagError } = await import('./job/part-flags.js');
  try {
    parseSplitFlags(split, process.env);
  } catch (err) {
    if (!(err instanceof SplitFlagError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(EXIT_BAD_FILE);
  }
  const signal = abortOnSignals(interruptedReason);
  const { createCapabilityProber } = await import('./capabilities/probe.js');
  const { execaRunner } = await import('./exec/runner.js');
  // The same encoder choice as the service: the cached probe says which hardware encoders really work here.
  const probe = await createCapabilityProber({ config, runner: execaRunner, log, workerVersion: VERSION })
    .probe()
    .catch((err: unknown) => {
      log.warn({ err: errorMessage(err) }, 'capability probe failed; assuming software encoders only');
      return undefined;
    });
  const code = await runJobCommand({
    getProbe: () => probe,
    file,
    config,
    log,
    out: process.stdout,
    err: process.stderr,
    isTTY: Boolean(process.stderr.isTTY),
    signal,
    split,
    env: process.env,
  });
  // The payload is the command's output: let it reach a pipe before exiting (pipes are asynchronous on Windows).
  process.stdout.write('', () => process.exit(code));
}

async function cmdDrain(
  flags: ConfigFlags & { exit?: boolean; cancel?: boolean; wait?: boolean; timeout?: string },
): Promise<void> {
  const config = readConfig(flags, false);
  let timeoutMs = 0;
  if (flags.timeout !== undefined) {
    try {
      timeoutMs = parseDuration(flags.timeout);
    } catch (err) {
      throw new ConfigError(`invalid --timeout = ${JSON.stringify(flags.timeout)}: ${errorMessage(err)}`);
    }
  }
  const { runDrainCommand } = await import('./worker/drain-command.js');
  const code = await runDrainCommand({
    stateDir: config.state_dir,
    exit: Boolean(flags.exit),
    cancel: Boolean(flags.cancel),
    wait: Boolean(flags.wait),
    timeoutMs,
    out: process.stdout,
  });
  process.stdout.write('', () => process.exit(code));
}

async function cmdDevOrchestrator(opts: {
  host: string;
  port: string;
  authToken?: string;
  jobs?: string;
  logLevel: string;
  splitMinDuration?: string;
  nasRoot?: string;
  ffprobePath?: string;
}) {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`invalid --port = ${JSON.stringify(opts.port)}: expected a port number (0-65535)`);
  const log = createLogger({ level: opts.logLevel });
  const { runDevOrchestratorCommand, splitOptionsFromFlags } = await import('./dev-orchestrator/command.js');
  const split = splitOptionsFromFlags(opts);
  await runDevOrchestratorCommand({
    host: opts.host,
    port,
    authToken: opts.authToken,
    jobsFile: opts.jobs,
    log,
    split,
  });
  process.exit(0);
}

async function cmdDemo(flags: ConfigFlags & { serve?: boolean; servePort?: string; workers?: string }): Promise<void> {
  const workers = Number(flags.workers ?? 1);
  if (!Number.isInteger(workers) || workers < 1 || workers > 8)
    throw new ConfigError(`invalid --workers = ${JSON.stringify(flags.workers)}: expected 1 to 8`);
  const { runDemo } = await import('./demo.js');
  const code = await runDemo({
    workers,
    serve: Boolean(flags.serve),
    servePort: Number(flags.servePort ?? 8090),
    configArgs: configArgs(flags),
  });
  process.exit(code);
}

export function buildCli(): Command {
  const program = new Command('transcode-worker')
    .description('Worker node of a distributed media server: turns this machine into an HLS transcoding worker.')
    .version(VERSION)
    .showHelpAfterError();

  addConfigOptions(
    program
      .command('start', { isDefault: true })
      .description('register with the orchestrator and take transcoding jobs until stopped (default)'),
  ).action((flags: ConfigFlags) => cmdStart(flags).catch(fail));

  addConfigOptions(
    program
      .command('probe')
      .description('test which encoders really work on this host and print the capabilities it would register')
      .option('--refresh', 'ignore the cached result and test again')
      .option('--verbose', 'show every candidate encoder with its result, reason, max resolution and test time')
      .option('--json', 'with --verbose: the whole probe report as JSON instead of a table'),
  ).action((flags) => cmdProbe(flags).catch(fail));

  addConfigOptions(
    program
      .command('run-job')
      .description('run one job spec (JSON) locally with no orchestrator; prints the finalize payload')
      .argument('<file>', 'job JSON file (the assigned_job object of the protocol)')
      .option(
        '--part [INDEX/COUNT]',
        'encode only part INDEX (0-based) of COUNT equal parts into the parts area on the NAS; with no value or ' +
          '"auto": INDEX from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job), COUNT from --part-count',
      )
      .option(
        '--part-count <N>',
        'the number of parts, for --part without INDEX/COUNT and --stitch (env TW_PART_COUNT)',
      )
      .option('--stitch', 'join the COUNT committed parts into the finished ladder (exit 3: parts still missing)'),
  ).action((file: string, flags: RunJobFlags) => cmdRunJob(file, flags).catch(fail));

  addConfigOptions(
    program
      .command('drain')
      .description(
        'ask the worker running on this state_dir to finish its job and take no new one (until --cancel or it stops)',
      )
      .option('--exit', 'then stop the worker (exit 0) once it is idle')
      .option('--cancel', 'take jobs again (undo a drain)')
      .option('--wait', 'block until the worker has exited (--exit) or is idle: for a Kubernetes preStop hook')
      .option('--timeout <duration>', 'with --wait: give up (exit 1) after this long, e.g. "10m"'),
  ).action((flags) => cmdDrain(flags).catch(fail));

  program
    .command('dev-orchestrator')
    .description('run the in-memory reference orchestrator (for development, tests and demos; not for production)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '8080')
    .option('--auth-token <token>', 'require "Authorization: Bearer <token>"')
    .option('--jobs <file>', 'JSON file with jobs (an array) to enqueue at start')
    .option('--log-level <level>', 'log level', 'info')
    .option(
      '--split-min-duration <duration>',
      'split a job whose source is longer than this (e.g. "20m") into parts for idle workers with split-stitch/1',
    )
    .option('--nas-root <dir>', 'with --split-min-duration: the NAS root, to read source durations with ffprobe')
    .option('--ffprobe-path <path>', 'with --split-min-duration: the ffprobe to read durations with', 'ffprobe')
    .action((opts) => cmdDevOrchestrator(opts).catch(fail));

  addConfigOptions(
    program
      .command('demo')
      .description('end-to-end demo on this machine: dev orchestrator + worker + a generated sample, two renditions')
      .option('--serve', 'keep serving the NAS folder (with a player page) after the job completes')
      .option('--serve-port <port>', 'port of the --serve web server', '8090')
      .option('--workers <n>', 'workers to start; 2 or more: the job is split into parts across them', '1'),
  ).action((flags) => cmdDemo(flags).catch(fail));

  return program;
}

buildCli().parseAsync(process.argv).catch(fail);
