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
