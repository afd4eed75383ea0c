import { pino, type Logger, type DestinationStream, type LoggerOptions as PinoOptions } from 'pino';
import { createRequire } from 'node:module';
import type { PrettyOptions } from 'pino-pretty';
import { REDACTED, createScrubber } from './util/redact.js';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** Where JSON lines go; stdout by default. Tests pass a sink to read the real output. */
  destination?: DestinationStream;
  /** Human-readable output; defaults to "stdout is a terminal". */
  pretty?: boolean;
  /** Literal secrets (the auth_token, URL credentials: config.ts's configSecrets) masked in every line. */
  secrets?: readonly string[];
}

/**
 * Object paths whose values are never written, whatever logs them: an Authorization header (an axios error carries
 * its request's headers under config.headers), Basic credentials (config.auth) and the token itself. The messages
 * are made secret-free where they are built; this is the net under them.
 */
export const REDACTED_LOG_PATHS = [
  'auth_token',
  '*.auth_token',
  'authorization',
  'Authorization',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.*.headers.authorization',
  '*.*.headers.Authorization',
  '*.config.auth',
  '*.*.config.auth',
];

/** What an HTTP client error carries besides its message: the request (raw header text included) and the answer. */
const TRANSPORT_KEYS = ['config', 'request', 'response'];

/**
 * pino's error serializer, minus the transport objects an axios error (or one caused by it) carries: the raw request
 * header text in `request` holds the Authorization header where no redact path can reach it, and none of it helps
 * a person anyway (message, code and stack stay).
 */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const out = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  for (let level: Record<string, unknown> | undefined = out; level;) {
    for (const key of TRANSPORT_KEYS) delete level[key];
    level = typeof level.cause === 'object' && level.cause ? (level.cause as Record<string, unknown>) : undefined;
  }
  return out;
}

/**
 * pino JSON to stdout (one object per line, what log shippers expect), pretty when a person is watching.
 * Pretty printing runs in-process (no transport worker thread) to keep the idle footprint small.
 * Every line is scrubbed as it is written: URL credentials (scheme://user:password@) and the literal secrets become
 * [redacted], so a secret that reached a message by a path nobody foresaw still never leaves the process.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const scrub = createScrubber(opts.secrets ?? []);
  const base: PinoOptions = {
    level: opts.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_LOG_PATHS, censor: REDACTED },
    serializers: { err: serializeError, error: serializeError },
    hooks: { streamWrite: scrub },
  };
  if (opts.destination) return pino(base, opts.destination);
  const usePretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  if (usePretty) {
    // Loaded only when a person watches: a service under systemd or in a container never pays its memory.
    const pretty = createRequire(import.meta.url)('pino-pretty') as (o: PrettyOptions) => DestinationStream;
    return pino(base, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return pino(base, pino.destination({ dest: 1, sync: true }));
}
