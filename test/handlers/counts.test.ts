/**
 * Request counts on real DynamoDB Local, measured by a counting middleware on the service's DynamoDB client
 * (issue 2): resolve exact/partial/range/latest = 1 request, alias ≤ 2, create version = 1 TransactWriteItems
 * and at most 1 read; a range resolve at 1,000 live versions reads at most two items per `||` alternative, with
 * `stage=published` too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetWithVersions } from '../fixtures/manyVersions.ts';
import { startService, type Service } from '../fixtures/service.ts';

let svc: Service;
const sha = (n: number) => n.toString(16).padStart(64, '0');

/** Versions created ready (their blob is verified), so no S3 is involved. */
async function seed(): Promise<void> {
  await svc.call('POST', '/v1/assets', { body: { name: 'counts/model', type: 'model' } });
  const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
  const { ddb } = await import('../../functions/adapters/dynamo.ts');
  await ddb.send(new PutCommand({ TableName: svc.dynamo.tables.blobs, Item: { sha256: sha(1), size: 3, verifiedAt: new Date().toISOString() } }));
  for (const version of ['1.0.0', '1.1.0', '1.2.0', '2.0.0-rc.1', '10.0.0']) {
    const res = await svc.call('POST', '/v1/assets/counts/model/-/versions', { body: { version, files: [{ path: 'm.bin', size: 3, sha256: sha(1) }] } });
    expect(res.body.status).toBe('ready');
  }
  // Tombstones must not cost resolve anything.
  for (let i = 0; i < 20; i++) {
    const version = `1.3.${i}`;
    await svc.call('POST', '/v1/assets/counts/model/-/versions', { body: { version, files: [{ path: 'm.bin', size: 3, sha256: sha(1) }] } });
    const del = await svc.call('DELETE', `/v1/assets/counts/model/-/versions/${version}`);
    expect(del.status).toBe(200);
  }
  await svc.call('PUT', '/v1/assets/counts/model/-/aliases/champion', { body: { version: '1.1.0' } });
}

beforeAll(async () => {
  svc = await startService();
  await seed();
});
afterAll(async () => svc?.stop());

const measure = async (fn: () => Promise<unknown>) => {
  svc.counts.clear();
  await fn();
  return Object.fromEntries(svc.counts);
};

describe('DynamoDB requests per operation (counting middleware, DynamoDB Local)', () => {
  it.each([
    ['exact', 'counts/model:1.1.0', '1.1.0', { GetItemCommand: 1 }],
    ['partial major', 'counts/model:1', '1.2.0', { QueryCommand: 1 }],
    ['partial minor', 'counts/model:1.1', '1.1.0', { QueryCommand: 1 }],
    ['range', 'counts/model:^1.0.0', '1.2.0', { QueryCommand: 1 }],
    ['range naming a pre-release (its releases, its tuple)', 'counts/model:>=2.0.0-rc.0 <3', '2.0.0-rc.1', { QueryCommand: 2 }],
    ['latest (implicit)', 'counts/model', '10.0.0', { QueryCommand: 1 }],
    ['latest', 'counts/model:latest', '10.0.0', { QueryCommand: 1 }],
    ['alias', 'counts/model:champion', '1.1.0', { GetItemCommand: 2 }],
  ])('resolve %s (%s) → %s', async (_kind, spec, version, expected) => {
    let body: { version?: string } = {};
    const counts = await measure(async () => {
      body = (await svc.call('GET', `/v1/resolve/${spec}`)).body;
    });
    expect(body.version).toBe(version);
    expect(counts).toEqual(expected);
  });

  it('create version: one read (asset + blobs, one BatchGetItem) and one TransactWriteItems', async () => {
    let status = 0;
    const counts = await measure(async () => {
      status = (await svc.call('POST', '/v1/assets/counts/model/-/versions', { body: { bump: 'major', files: [{ path: 'm.bin', size: 3, sha256: sha(1) }] } })).status;
    });
    expect(status).toBe(201);
    expect(counts).toEqual({ BatchGetItemCommand: 1, TransactWriteItemsCommand: 1 });
  });

  it('create version with Idempotency-Key adds only the idempotency record', async () => {
    let status = 0;
    const counts = await measure(async () => {
      status = (
        await svc.call('POST', '/v1/assets/counts/model/-/versions', {
          body: { bump: 'patch', files: [{ path: 'm.bin', size: 3, sha256: sha(1) }] },
          headers: { 'idempotency-key': 'k-1' },
        })
      ).status;
    });
    expect(status).toBe(201);
    expect(counts.BatchGetItemCommand).toBe(1);
    expect(counts.TransactWriteItemsCommand).toBe(1);
  });
});

describe('range resolve at 1,000 live versions (DynamoDB bounds the read)', () => {
  const scanned: number[] = [];

  beforeAll(async () => {
    // 0.0.0, two pre-releases of 1.20.0, and 1.0.0 … 1.996.0: 1,000 ready versions.
    await assetWithVersions(svc, 'counts/many', ['0.0.0', '1.20.0-rc.1', '1.20.0-rc.2', ...Array.from({ length: 997 }, (_, i) => `1.${i}.0`)], sha(1));
    const { dynamoClient } = await import('../../functions/adapters/dynamo.ts');
    dynamoClient.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'QueryCommand') scanned.push((out.output as { ScannedCount?: number }).ScannedCount ?? 0);
        return out;
      },
      { step: 'initialize', name: 'arcaTestScanned' },
    );
  });

  it.each([
    ['caret', 'counts/many:^1.500.0', '1.996.0', 1, 2],
    ['strict upper bound (answer is the second item)', 'counts/many:<1.500.0', '1.499.0', 1, 2],
    ['bounded both ways', 'counts/many:>=1.100.0 <=1.200.0', '1.200.0', 1, 2],
    ['alternatives: one query each', 'counts/many:1.3.x || 1.7.x', '1.7.0', 2, 4],
    ['latest', 'counts/many', '1.996.0', 1, 1],
    ['pre-release range, wide: releases, then the named tuple', 'counts/many:>=1.0.0-0', '1.996.0', 2, 4],
    ['pre-release range inside one tuple', 'counts/many:>=1.20.0-rc.0 <1.20.0', '1.20.0-rc.2', 2, 4],
  ])('%s (%s) → %s in %i Query, reading ≤ %i items', async (_kind, spec, version, queries, maxScanned) => {
    scanned.length = 0;
    let body: { version?: string } = {};
    const counts = await measure(async () => {
      body = (await svc.call('GET', `/v1/resolve/${spec}`)).body;
    });
    expect(body.version).toBe(version);
    expect(counts).toEqual({ QueryCommand: queries });
    expect(scanned.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(maxScanned);
  });

  describe('stage=published at 1,000 versions, one in ten published: the published index, one Query per span', () => {
    beforeAll(async () => {
      // As counts/many; published: 1.5.0, 1.15.0 … 1.995.0 and 1.20.0-rc.1.
      const versions = ['0.0.0', '1.20.0-rc.1', '1.20.0-rc.2', ...Array.from({ length: 997 }, (_, i) => `1.${i}.0`)];
      await assetWithVersions(svc, 'counts/pub', versions, sha(1), (v) => v === '1.20.0-rc.1' || /^1\.\d*5\.0$/.test(v));
    });

    it.each([
      ['caret', 'counts/pub:^1.0.0', '1.995.0', 1],
      ['strict upper bound', 'counts/pub:<1.500.0', '1.495.0', 1],
      ['bounded both ways', 'counts/pub:>=1.100.0 <=1.200.0', '1.195.0', 1],
      ['alternatives: one query each', 'counts/pub:1.5.x || 1.15.x', '1.15.0', 2],
      ['partial', 'counts/pub:1', '1.995.0', 1],
      ['latest', 'counts/pub', '1.995.0', 1],
      ['pre-release range, wide', 'counts/pub:>=1.0.0-0', '1.995.0', 2],
      ['pre-release range inside one tuple (rc.2 is only ready)', 'counts/pub:>=1.20.0-rc.0 <1.20.0', '1.20.0-rc.1', 2],
    ])('%s (%s) → %s in %i Query, reading ≤ 2 items each', async (_kind, spec, version, queries) => {
      scanned.length = 0;
      let body: { version?: string; status?: string } = {};
      const counts = await measure(async () => {
        body = (await svc.call('GET', `/v1/resolve/${spec}?stage=published`)).body;
      });
      expect(body).toMatchObject({ version, status: 'published' });
      expect(counts).toEqual({ QueryCommand: queries });
      expect(scanned).toHaveLength(queries);
      for (const n of scanned) expect(n).toBeLessThanOrEqual(2);
    });
  });
});
