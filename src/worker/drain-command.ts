/**
 * `transcode-worker drain`: asks the worker running on this state_dir to finish its job and take no new one
 * (`--exit`: then stop, exit 0), or to take jobs again (`--cancel`); `--wait` blocks until it has exited or is idle
 * (a Kubernetes preStop hook). It writes the request file (drain-files.ts) and, on POSIX when the worker runs on
 * this host, sends it SIGUSR2 so that it acts at once instead of at its next sync.
 *
 * Exit codes: 0 done (or nothing to do: no worker runs, and --exit or --cancel was asked); 1 no worker holds this
 * state_dir (a plain drain), or --wait timed out.
 */
import { errorMessage } from '../errors.js';
import { sleep } from '../util/abortable.js';
import { drainSignal } from '../util/signals.js';
import { readDrainStatus, writeDrainRequest } from './drain-files.js';
import { stateLockHolder, type LockHolder } from './state-lock.js';

export interface DrainCommandOptions {
  stateDir: string;
  exit: boolean;
  cancel: boolean;
  wait: boolean;
  /** --wait gives up after this long (0: never). */
  timeoutMs: number;
  out: { write(text: string): unknown };
  /** How often --wait looks. */
  pollMs?: number;
  now?: () => number;
  /** Sends the nudge; tests may replace it. */
  signal?: (pid: number, signal: NodeJS.Signals) => void;
}

export async function runDrainCommand(opts: DrainCommandOptions): Promise<number> {
  const { stateDir, out } = opts;
  const now = opts.now ?? Date.now;
  const say = (line: string) => out.write(`${line}\n`);
  const holder = stateLockHolder(stateDir);
  if (!holder) {
    if (opts.exit || opts.cancel) {
      say(`no transcode-worker is running on state_dir ${stateDir}: nothing to ${opts.cancel ? 'cancel' : 'drain'}`);
      return 0;
    }
    say(`no transcode-worker holds state_dir ${stateDir}: is it running, and is this its state_dir (--state-dir)?`);
    return 1;
  }
  await writeDrainRequest(stateDir, {
    draining: !opts.cancel,
    exit: opts.exit && !opts.cancel,
    requested_at: new Date(now()).toISOString(),
    requested_by: `drain command (pid ${process.pid})`,
  });
  const who = `worker pid ${holder.pid}${holder.hostname ? ` on ${holder.hostname}` : ''}`;
  if (opts.cancel) {
    say(`asked ${who} to take jobs again (it does at its next sync)`);
    return 0;
  }
  const nudged = nudge(holder, opts.signal);
  say(
    `asked ${who} to drain${opts.exit ? ' and exit' : ''}: it finishes its running job and takes no new one` +
      (nudged ? '' : ' (from its next sync)'),
  );
  if (!opts.wait) return 0;
  return waitUntilDone(opts, holder, now, say);
}

/** SIGUSR2 to a worker on this host, so that it reads the request now. */
function nudge(
  holder: LockHolder,
  send: (pid: number, s: NodeJS.Signals) => void = (pid, s) => {
    process.kill(pid, s);
  },
): boolean {
  const signal = drainSignal();
  if (!signal || !holder.local) return false;
  try {
    send(holder.pid, signal);
    return true;
  } catch {
    return false; // exited meanwhile, or not ours to signal: it reads the file at its next sync anyway
  }
}

/** --wait: until the worker has exited (its lock is released), or without --exit until it says it is idle. */
async function waitUntilDone(
  opts: DrainCommandOptions,
  holder: LockHolder,
  now: () => number,
  say: (line: string) => void,
): Promise<number> {
  const deadline = opts.timeoutMs > 0 ? now() + opts.timeoutMs : Infinity;
  for (;;) {
    const current = stateLockHolder(opts.stateDir);
    if (!current || current.pid !== holder.pid) {
      say('the worker has exited');
      return 0;
    }
    if (!opts.exit) {
      const status = await readDrainStatus(opts.stateDir).catch((err: unknown) => ({ problem: errorMessage(err) }));
      if (status && 'value' in status && status.value.draining && status.value.idle) {
        say(`the worker is drained: no job running, every result delivered (since ${status.value.since})`);
        return 0;
      }
    }
    if (now() >= deadline) {
      say(
        `gave up waiting after ${Math.round(opts.timeoutMs / 1000)} s: the worker is still ${opts.exit ? 'running' : 'busy'}`,
      );
      return 1;
    }
    await sleep(opts.pollMs ?? 250);
  }
}
