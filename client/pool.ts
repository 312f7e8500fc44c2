/** Bounded parallelism and retries with backoff, shared by uploads and downloads. */

/** Runs `work` over `items`, at most `limit` at once; the first failure stops new work and is thrown. */
export async function runPool<T>(items: T[], limit: number, signal: AbortSignal | undefined, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async () => {
    while (!failed && next < items.length) {
      signal?.throwIfAborted();
      const item = items[next++]!;
      try {
        await work(item);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed.err;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    }, { once: true });
  });

/** Tries `fn` up to `attempts` times while `retryable(err)`, backing off 0.5 s, 1 s, 2 s … (max 8 s) with jitter. */
export async function withRetries<T>(attempts: number, signal: AbortSignal | undefined, fn: () => Promise<T>, retryable: (err: unknown) => boolean): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (signal?.aborted || attempt >= attempts || !retryable(err)) throw err;
      await sleep(Math.min(8000, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2), signal);
    }
  }
}
