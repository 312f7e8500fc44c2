/**
 * R-SPEC end to end on DynamoDB Local: over random version sets (with tombstones) and selectors, resolving
 * through the read handler answers what `semver.maxSatisfying` answers over the live versions.
 */
import fc from 'fast-check';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../fixtures/service.ts';

let svc: Service;
const SHA = 'a'.repeat(64);
let n = 0;

beforeAll(async () => {
  svc = await startService();
  const { ddb } = await import('../../functions/adapters/dynamo.ts');
  const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
  await ddb.send(new PutCommand({ TableName: svc.dynamo.tables.blobs, Item: { sha256: SHA, size: 1, verifiedAt: 'now' } }));
});
afterAll(async () => svc?.stop());

async function assetWith(versions: string[], deleted: string[]): Promise<string> {
  const name = `prop/a${n++}`;
  await svc.call('POST', '/v1/assets', { body: { name, type: 'model' } });
  for (const version of versions) {
    const res = await svc.call('POST', `/v1/assets/${name}/-/versions`, { body: { version, files: [{ path: 'm.bin', size: 1, sha256: SHA }] } });
    expect(res.status).toBe(201);
  }
  for (const version of deleted) expect((await svc.call('DELETE', `/v1/assets/${name}/-/versions/${version}`)).status).toBe(200);
  return name;
}

const expected = (selector: string, live: string[]): string | null => {
  const partial = /^(\d+)(?:\.(\d+))?$/.exec(selector);
  if (selector === 'latest') return semver.maxSatisfying(live, '*');
  if (partial) return semver.maxSatisfying(live, partial[2] === undefined ? `${partial[1]}.x` : `${partial[1]}.${partial[2]}.x`);
  return semver.maxSatisfying(live, selector);
};

const versionArb = fc
  .tuple(fc.integer({ min: 0, max: 11 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.constantFrom('', '-alpha', '-alpha.1', '-rc.1', '-rc.10', '-0'))
  .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre}`);

const selectorArb = fc.constantFrom('latest', '1', '2', '10', '1.1', '0.3', '*', '^1', '^1.1', '~2.0', '1.x', '>=1.0.0 <10', '>=2.0.0-alpha <3', '^1.0.0-rc.1', '>=0.0.0-0', '<=1.1.0');

describe('resolution equals semver.maxSatisfying (fast-check, DynamoDB Local)', () => {
  it('name:1 over [1.0, 1.1, 10.0] is 1.1.0, never 10.0.0', async () => {
    const name = await assetWith(['1.0', '1.1', '10.0'], []);
    expect((await svc.call('GET', `/v1/resolve/${name}:1`)).body.version).toBe('1.1.0');
    expect((await svc.call('GET', `/v1/resolve/${name}`)).body.version).toBe('10.0.0');
  });

  it('random version sets, tombstones and selectors', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(versionArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        fc.array(selectorArb, { minLength: 3, maxLength: 3 }),
        async (versions, deleteMask, selectors) => {
          const deleted = versions.filter((_, i) => deleteMask[i]);
          const live = versions.filter((_, i) => !deleteMask[i]);
          const name = await assetWith(versions, deleted);
          for (const selector of [...selectors, ...live.slice(0, 1), ...deleted.slice(0, 1)]) {
            const res = await svc.call('GET', `/v1/resolve/${name}:${encodeURIComponent(selector)}`);
            const want = expected(selector, live);
            if (want === null) expect([selector, res.status, res.body.error?.code]).toEqual([selector, 404, 'NotFound']);
            else expect([selector, res.status, res.body.version]).toEqual([selector, 200, want]);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
