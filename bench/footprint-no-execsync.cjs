/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload for node -r */
// Preloaded (node -r) by bench/footprint-node24.mjs to measure what the idle worker would cost without
// systeminformation's per-sync `execSync('cat /proc/stat 2>/dev/null | grep cpu')` (cpu.js getLoad, Linux): it answers
// that one command from /proc/stat in-process and leaves every other execSync alone. A measurement aid, not a fix.
const cp = require('node:child_process');
const fs = require('node:fs');
const real = cp.execSync;
cp.execSync = function execSync(cmd, ...rest) {
  if (cmd === 'cat /proc/stat 2>/dev/null | grep cpu') {
    const out =
      fs
        .readFileSync('/proc/stat', 'utf8')
        .split('\n')
        .filter((l) => l.includes('cpu'))
        .join('\n') + '\n';
    return Buffer.from(out);
  }
  return real.call(this, cmd, ...rest);
};
