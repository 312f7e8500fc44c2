import { conflict } from '../shared/errors.ts';

/** Attempts of an optimistic loop before it answers contention (publish, edits, formats, delete, aliases, assets). */
export const CONTENTION_ATTEMPTS = 5;

/**
 * Waiting between optimistic-concurrency attempts on one item. Full jitter (a random wait up to an exponential
 * cap) so writers that collided once do not collide again in lockstep.
 */
const BASE_MS = 10;
const CAP_MS = 400;

/** Resolves after a random wait up to min(CAP_MS, BASE_MS · 2^attempt) (attempt 0 = after the first failure). */
export function contentionBackoff(attempt: number): Promise<void> {
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

/**
 * The answer once the attempts are spent. Contention is a state conflict, not a rate limit: 429 would tell
 * clients to slow down, which does not help. `details.reason: "contention"` says that doing it again may work.
 */
export const contended = (code: Parameters<typeof conflict>[0], message: string, details: Record<string, unknown>) =>
  conflict(code, message, { ...details, reason: 'contention' });
