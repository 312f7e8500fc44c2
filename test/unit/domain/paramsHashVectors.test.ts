/**
 * The shared paramsHash vectors (test/vectors/params-hash.json) against the service's own function; the
 * Python SDK checks the same file (python/tests/test_params_hash.py), so both compute the same hash.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { paramsHash, type Dependency } from '../../../functions/domain/paramsHash.ts';

interface Vector {
  name: string;
  params: string;
  dependencies: Dependency[];
  paramsHash: string;
}

const { vectors } = JSON.parse(readFileSync(new URL('../../vectors/params-hash.json', import.meta.url), 'utf8')) as { vectors: Vector[] };

describe('paramsHash shared vectors', () => {
  it('covers the cases both SDKs must agree on', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(10);
  });
  it.each(vectors)('$name', (v) => {
    expect(paramsHash(JSON.parse(v.params) as Record<string, unknown>, v.dependencies)).toBe(v.paramsHash);
  });
  it('1.0 and 1, and -0.0 and 0, hash alike', () => {
    expect(paramsHash({ lr: 1.0 })).toBe(paramsHash(JSON.parse('{"lr": 1}') as Record<string, unknown>));
    expect(paramsHash({ x: -0 })).toBe(paramsHash({ x: 0 }));
  });
});
