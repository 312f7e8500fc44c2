/**
 * A function's copy of the grants table, trusted for a short lifetime. One refresh is one table read, shared
 * by the requests that arrive while it runs; a failed refresh is not kept, so the next request tries again.
 * The function that changes a grant drops its copy at once; the others see the change within the lifetime.
 */
export interface Cache<T> {
  get(): Promise<T>;
  invalidate(): void;
}

export function timedCache<T>(load: () => Promise<T>, lifetimeMs: number, now: () => number = Date.now): Cache<T> {
  let held: { at: number; value: Promise<T> } | undefined;
  return {
    get() {
      if (held === undefined || now() - held.at >= lifetimeMs) {
        const value = load();
        const entry = { at: now(), value };
        held = entry;
        value.catch(() => {
          if (held === entry) held = undefined;
        });
      }
      return held.value;
    },
    invalidate() {
      held = undefined;
    },
  };
}
