import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_RETRY, delayAfter, maxAttempts, retryDelays } from '../../contract/retry.ts';

describe('retry schedule', () => {
  it('backs off exponentially up to the cap and stops within 24 hours', () => {
    const delays = retryDelays(DEFAULT_RETRY);
    expect(delays.slice(0, 8)).toEqual([30, 60, 120, 240, 480, 960, 1920, 3840]);
    expect(delays.slice(8).every((d) => d === 7200)).toBe(true);
    const total = delays.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(24 * 3600);
    expect(total + 7200).toBeGreaterThan(24 * 3600);
    expect(maxAttempts(DEFAULT_RETRY)).toBe(delays.length + 1);
    expect(maxAttempts(DEFAULT_RETRY)).toBe(19);
  });

  it('gives the wait after each failed attempt and none after the last', () => {
    const policy = { baseSeconds: 1, factor: 2, maxDelaySeconds: 4, windowSeconds: 10 };
    expect(retryDelays(policy)).toEqual([1, 2, 4]);
    expect([1, 2, 3, 4].map((a) => delayAfter(policy, a))).toEqual([1, 2, 4, undefined]);
  });

  it('never exceeds the window or the cap, and never shrinks (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 100, noNaN: true }),
        fc.double({ min: 1.1, max: 4, noNaN: true }),
        fc.double({ min: 100, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 50_000, noNaN: true }),
        (base, factor, capOver, window) => {
          const policy = { baseSeconds: base, factor, maxDelaySeconds: base * capOver, windowSeconds: window };
          const delays = retryDelays(policy);
          expect(delays.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(window + 1e-9);
          delays.forEach((d, i) => {
            expect(d).toBeLessThanOrEqual(policy.maxDelaySeconds);
            if (i > 0) expect(d).toBeGreaterThanOrEqual(delays[i - 1] ?? 0);
          });
        },
      ),
    );
  });

  it('refuses a policy that would never end or retry absurdly often', () => {
    expect(() => retryDelays({ baseSeconds: 0, factor: 2, maxDelaySeconds: 10, windowSeconds: 10 })).toThrow(/baseSeconds > 0/);
    expect(() => retryDelays({ baseSeconds: 0.01, factor: 1, maxDelaySeconds: 1, windowSeconds: 86_400 })).toThrow(/more than 1000 times/);
  });
});
