/** The grants cache (docs/grants.md "Caching"): one load per lifetime, shared while in flight, failures not kept, dropped on demand. */
import { describe, expect, it } from 'vitest';
import { timedCache } from '../../../functions/domain/grantCache.ts';

describe('timedCache', () => {
  it('loads once per lifetime and shares a load in flight', async () => {
    let clock = 0;
    let loads = 0;
    const cache = timedCache(async () => ++loads, 1000, () => clock);
    expect(await Promise.all([cache.get(), cache.get(), cache.get()])).toEqual([1, 1, 1]);
    clock = 999;
    expect(await cache.get()).toBe(1);
    clock = 1000;
    expect(await cache.get()).toBe(2);
    expect(loads).toBe(2);
  });

  it('keeps no failed load, and invalidate forces the next get to load', async () => {
    let fail = true;
    let loads = 0;
    const cache = timedCache(async () => {
      loads++;
      if (fail) throw new Error('throttled');
      return loads;
    }, 60_000);
    await expect(cache.get()).rejects.toThrow('throttled');
    fail = false;
    expect(await cache.get()).toBe(2);
    expect(await cache.get()).toBe(2);
    cache.invalidate();
    expect(await cache.get()).toBe(3);
  });

  it('a lifetime of 0 loads on every get', async () => {
    let loads = 0;
    const cache = timedCache(async () => ++loads, 0);
    await cache.get();
    await cache.get();
    expect(loads).toBe(2);
  });
});
