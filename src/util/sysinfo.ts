/**
 * systeminformation, one part at a time: its index loads all 20 modules (network, docker, wifi, printers...) and
 * keeps them in memory for good, while the worker needs cpu, memory and graphics; 0.7 MB less heap on an idle
 * worker, which should be nearly invisible on its host (bench/footprint.mjs measures it). The package has no
 * "exports" map, so its lib/ files can be required directly (CommonJS); they are the same module instances as the
 * index's, so state such as the previous CPU sample is shared.
 */
import { createRequire } from 'node:module';
import type si from 'systeminformation';

const require = createRequire(import.meta.url);

export const sysinfo = {
  cpu: (): Pick<typeof si, 'cpu'> => require('systeminformation/lib/cpu.js') as typeof si,
  memory: (): Pick<typeof si, 'mem'> => require('systeminformation/lib/memory.js') as typeof si,
  graphics: (): Pick<typeof si, 'graphics'> => require('systeminformation/lib/graphics.js') as typeof si,
};
