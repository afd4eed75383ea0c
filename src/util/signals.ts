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
