/**
 * The webhook retry schedule (R-EVENT: "failed deliveries retry with backoff for 24 h, then land in a
 * dead-letter queue"). One pure definition read by the SQS delivery worker (visibility delays), the CDK
 * construct (the queue's maxReceiveCount) and local mode (timers), so all three agree.
 */
export interface RetryPolicy {
  /** Delay before the second attempt. */
  baseSeconds: number;
  /** Each delay is the previous one times this. */
  factor: number;
  /** No single delay is longer (SQS caps a message's visibility timeout at 12 h). */
  maxDelaySeconds: number;
  /** Attempts stop once the next one would start after this long since the first. */
  windowSeconds: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  baseSeconds: 30,
  factor: 2,
  maxDelaySeconds: 2 * 3600,
  windowSeconds: 24 * 3600,
};

const MAX_RETRIES = 1000;

/** The delays between attempts: delays[i] is the wait after attempt i + 1 failed. */
export function retryDelays(policy: RetryPolicy): number[] {
  if (!(policy.baseSeconds > 0) || !(policy.factor >= 1) || !(policy.maxDelaySeconds >= policy.baseSeconds)) {
    throw new Error('retry policy needs baseSeconds > 0, factor >= 1 and maxDelaySeconds >= baseSeconds');
  }
  const delays: number[] = [];
  let elapsed = 0;
  for (let next = policy.baseSeconds; ; next = Math.min(next * policy.factor, policy.maxDelaySeconds)) {
    if (elapsed + next > policy.windowSeconds) return delays;
    if (delays.length === MAX_RETRIES) throw new Error(`retry policy would retry more than ${MAX_RETRIES} times: raise baseSeconds or factor`);
    delays.push(next);
    elapsed += next;
  }
}

/** How many attempts a delivery gets in all (the first plus one per delay). */
export const maxAttempts = (policy: RetryPolicy): number => retryDelays(policy).length + 1;

/** The wait after attempt `attempt` (1-based) failed, or `undefined` when it was the last one. */
export const delayAfter = (policy: RetryPolicy, attempt: number): number | undefined => retryDelays(policy)[attempt - 1];
