// Container health check: GET /healthz on the worker's own HTTP server with node's fetch, so the image needs no curl.
// Exit 0 = healthy, 1 = unhealthy (what Docker's HEALTHCHECK and compose's healthcheck expect).
// Liveness only: /healthz answers while the process is responsive. /readyz (registered + ffmpeg works) is for
// Kubernetes readiness, not for restarting a container whose orchestrator happens to be down.
const port = process.env.WORKER_HTTP_PORT || '9470';
const bind = process.env.WORKER_HTTP_HOST || '0.0.0.0';
// A wildcard bind address is not a destination: talk to loopback instead.
const host = bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind;
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`;

try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  if (!res.ok) {
    console.error(`healthcheck: ${url} answered ${res.status}`);
    process.exit(1);
  }
} catch (err) {
  console.error(`healthcheck: ${url} failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
