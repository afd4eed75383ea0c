/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload for node -r */
// Preloaded (node -r) into one diagnostic run of bench/footprint-node24.mjs: every 20 s prints one JSON line to stderr
// with process.memoryUsage() and V8's per-space committed sizes, to tell the young generation from the rest of RSS.
// Not used by the measured runs (its own timer would add wake-ups).
const v8 = require('node:v8');
const mb = (n) => Math.round((n / 1048576) * 10) / 10;
setInterval(() => {
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, mb(s.physical_space_size)]));
  process.stderr.write(
    `FPDIAG ${JSON.stringify({ t: Math.round(process.uptime()), rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), spaces })}\n`,
  );
}, 20_000).unref();
