import { pino, type Logger, type DestinationStream } from 'pino';
import { createRequire } from 'node:module';
import type { PrettyOptions } from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** Where JSON lines go; stdout by default. Tests pass a sink to read the real output. */
  destination?: DestinationStream;
  /** Human-readable output; defaults to "stdout is a terminal". */
  pretty?: boolean;
}

/**
 * pino JSON to stdout (one object per line, what log shippers expect), pretty when a person is watching.
 * Pretty printing runs in-process (no transport worker thread) to keep the idle footprint small.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const base = { level: opts.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (opts.destination) return pino(base, opts.destination);
  const usePretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  if (usePretty) {
    // Loaded only when a person watches: a service under systemd or in a container never pays its memory.
    const pretty = createRequire(import.meta.url)('pino-pretty') as (o: PrettyOptions) => DestinationStream;
    return pino(base, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return pino(base, pino.destination({ dest: 1, sync: true }));
}
