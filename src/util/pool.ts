/**
 * Bounded concurrency over a list: at most `limit` calls of fn run at once (at least one, so a limit of 0 still
 * makes progress), results keep the input order.
 *
 * Invariant: when the returned promise settles, no call of fn is still running. After the first failure no new
 * item is started; the calls already running are awaited, then that first error is thrown. A caller that aborts
 * (a cancelled commit) therefore never leaves a copy running behind its error.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure !== undefined) throw failure.error;
  return out;
}
