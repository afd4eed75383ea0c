import { backOff } from 'exponential-backoff';
import { JobGoneError, OrchestratorRedirectError, PermanentOrchestratorError, ProtocolError } from '../errors.js';

export interface RetryOptions {
  /** First delay; doubles per attempt up to maxDelayMs, with full jitter (a random delay in [0, cap]). */
  startDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  /** Whether this error is worth another attempt (default: everything but job-gone and non-auth 4xx). */
  shouldRetry?: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number) => void;
}

/**
 * Auth problems and redirects are retried: an operator can fix a token, or the reverse proxy that redirects, without
 * restarting us, and a result waiting in the outbox must then get through rather than have been dropped.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof JobGoneError) return false;
  if (err instanceof OrchestratorRedirectError) return true;
  if (err instanceof PermanentOrchestratorError) return err.isAuth;
  if (err instanceof ProtocolError) return true;
  return true;
}

/** Retries `fn` forever (until it succeeds, shouldRetry says no, or the signal aborts) with capped exponential backoff. */
export async function retryForever<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const shouldRetry = opts.shouldRetry ?? isRetryable;
  return backOff(
    async () => {
      opts.signal?.throwIfAborted();
      return fn();
    },
    {
      numOfAttempts: Number.MAX_SAFE_INTEGER,
      startingDelay: opts.startDelayMs ?? 500,
      timeMultiple: 2,
      maxDelay: opts.maxDelayMs ?? 30_000,
      jitter: 'full',
      retry: (err: unknown, attempt: number) => {
        if (opts.signal?.aborted) return false;
        if (!shouldRetry(err)) return false;
        opts.onRetry?.(err, attempt);
        return true;
      },
    },
  );
}
