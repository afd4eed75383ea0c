/**
 * The signals that ask this process to stop: SIGINT (Ctrl-C) and SIGTERM (systemd, docker stop, Kubernetes), and on
 * Windows SIGBREAK (Ctrl-Break, and what a service wrapper sends). One list for the service and for run-job.
 */
export function shutdownSignals(platform: NodeJS.Platform = process.platform): NodeJS.Signals[] {
  return platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGBREAK'] : ['SIGINT', 'SIGTERM'];
}

/** Calls `handler` on each shutdown signal until the returned function removes it. */
export function onShutdownSignal(handler: (signal: NodeJS.Signals) => void): () => void {
  const signals = shutdownSignals();
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}

/**
 * The signal that asks the service to drain (finish the running job, take no new one): SIGUSR2 on POSIX. Windows
 * has none: `transcode-worker drain` (a request file in state_dir) works everywhere.
 */
export function drainSignal(platform: NodeJS.Platform = process.platform): NodeJS.Signals | undefined {
  return platform === 'win32' ? undefined : 'SIGUSR2';
}

/** Calls `handler` on each drain signal (none on Windows) until the returned function removes it. */
export function onDrainSignal(handler: (signal: NodeJS.Signals) => void): () => void {
  const signal = drainSignal();
  if (!signal) return () => undefined;
  process.on(signal, handler);
  return () => {
    process.off(signal, handler);
  };
}
