/**
 * Polling with a deadline: the only way tests wait (never a bare sleep). The API is shared between engineers:
 * only ever ADD options/functions, never change what an existing one does.
 */

export interface WaitOptions {
  /** Give up after this long. Default 10 000 ms. */
  timeoutMs?: number;
  /** Time between two polls. Default 25 ms. */
  intervalMs?: number;
  /** What is being waited for, for the timeout error ("the job to be COMPLETED"). */
  message?: string | (() => string);
}

/**
 * Calls `fn` until it returns a truthy value, and resolves with that value. A throw from `fn` counts as "not yet"
 * (so `expect(...)` works inside); on timeout the last throw is shown in the error.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const what = typeof opts.message === 'function' ? opts.message() : (opts.message ?? 'a condition');
      const last =
        lastError instanceof Error
          ? `; last error: ${lastError.message}`
          : lastError
            ? `; last error: ${String(lastError)}`
            : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}`);
    }
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(1, deadline - Date.now()))));
  }
}
