/**
 * `stage=published` (R-SPEC: only published versions take part) over HTTP on DynamoDB Local, read from the
 * `published` index: ready and published versions mixed, pre-releases, `||` ranges, a published version deleted
 * afterwards; and the upgrade path: a versions table made before the index gains it (createTables), and
 * versions published before it become resolvable once backfilled (functions/jobs/backfillPublished.ts).
 */
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versionKey } from '../../contract/keys.ts';
import { TABLES } from '../../contract/tables.ts';
import { startService, type Service } from '../fixtures/service.ts';

let svc: Service;
const A = 'pub/mix';
const sha = (n: number) => n.toString(16).padStart(64, '0');
const doc = async () => (await import('../../functions/adapters/dynamo.ts')).ddb;

const resolved = async (spec: string, published = true): Promise<string | number> => {
  const res = await svc.call('GET', `/v1/resolve/${spec}${published ? '?stage=published' : ''}`);
  return res.status === 200 ? (res.body.version as string) : res.status;
};

async function createVersions(asset: string, versions: readonly string[]): Promise<void> {
  await svc.call('POST', '/v1/assets', { body: { name: asset, type: 'model' } });
  for (const version of versions) {
    const res = await svc.call('POST', `/v1/assets/${asset}/-/versions`, { body: { version, files: [{ path: 'm.bin', size: 3, sha256: sha(1) }] } });
    expect(res.body.status).toBe('ready');
  }
}

async function publish(asset: string, versions: readonly string[]): Promise<void> {
  for (const v of versions) expect((await svc.call('POST', `/v1/assets/${asset}/-/versions/${v}/publish`)).status).toBe(200);
}

beforeAll(async () => {
  svc = await startService();
  await (await doc()).send(new PutCommand({ TableName: svc.dynamo.tables.blobs, Item: { sha256: sha(1), size: 3, verifiedAt: new Date().toISOString() } }));
  await createVersions(A, ['1.0.0', '1.1.0', '1.2.0', '2.0.0-rc.1', '2.0.0-rc.2', '2.0.0', '2.1.0', '3.0.0']);
  await publish(A, ['1.0.0', '1.1.0', '2.0.0-rc.1', '2.0.0']);
  await svc.call('PUT', `/v1/assets/${A}/-/aliases/candidate`, { body: { version: '1.2.0' } });
  await svc.call('PUT', `/v1/assets/${A}/-/aliases/production`, { body: { version: '1.1.0' } });
});
afterAll(async () => svc?.stop());

describe('stage=published among ready versions (published: 1.0.0, 1.1.0, 2.0.0-rc.1, 2.0.0)', () => {
  it.each<[string, string | number, string | number]>([
    ['', '2.0.0', '3.0.0'], // the name alone: latest
    ['latest', '2.0.0', '3.0.0'],
    ['1', '1.1.0', '1.2.0'],
    ['1.2', 404, '1.2.0'],
    ['^1.0.0', '1.1.0', '1.2.0'],
    ['~1.2', 404, '1.2.0'],
    ['<2.0.0', '1.1.0', '1.2.0'],
    ['>=2.0.0-rc.0 <2.0.0', '2.0.0-rc.1', '2.0.0-rc.2'], // rc.2 is only ready
    ['^2.0.0-rc.0', '2.0.0', '2.1.0'], // the release among the pre-release range's keys comes from its release span
    ['1.x || >=2.0.0-rc.0 <2.0.0', '2.0.0-rc.1', '2.0.0-rc.2'],
    ['1.0.x || 3.x', '1.0.0', '3.0.0'],
    ['>=3.0.0', 404, '3.0.0'],
    ['1.1.0', '1.1.0', '1.1.0'],
    ['1.2.0', 404, '1.2.0'],
    ['production', '1.1.0', '1.1.0'],
    ['candidate', 404, '1.2.0'],
  ])('"%s" → %s (without the stage: %s)', async (selector, published, any) => {
    const spec = selector ? `${A}:${selector}` : A;
    expect(await resolved(spec)).toBe(published);
    expect(await resolved(spec, false)).toBe(any);
  });

  it('a published version deleted afterwards leaves the published index', async () => {
    await createVersions('pub/gone', ['1.0.0', '1.1.0', '1.2.0-rc.1', '1.2.0-rc.2']);
    await publish('pub/gone', ['1.0.0', '1.1.0', '1.2.0-rc.1', '1.2.0-rc.2']);
    expect(await resolved('pub/gone')).toBe('1.1.0');
    expect(await resolved('pub/gone:>=1.2.0-0')).toBe('1.2.0-rc.2');
    for (const v of ['1.1.0', '1.2.0-rc.2']) {
      expect((await svc.call('DELETE', `/v1/assets/pub/gone/-/versions/${v}?force=true&reason=withdrawn`)).status).toBe(200);
    }
    expect(await resolved('pub/gone')).toBe('1.0.0');
    expect(await resolved('pub/gone:^1.0.0')).toBe('1.0.0');
    expect(await resolved('pub/gone:>=1.2.0-0')).toBe('1.2.0-rc.1');
    const tombstone = (await (await doc()).send(new GetCommand({ TableName: svc.dynamo.tables.versions, Key: { asset: 'pub/gone', vkey: versionKey('1.1.0') } }))).Item;
    expect(tombstone).toMatchObject({ status: 'deleted' });
    expect(tombstone).not.toHaveProperty('publishedAsset');
  });
});

describe('upgrade: versions published before the published index', () => {
  it('become resolvable with stage=published once backfilled; the backfill is idempotent and safe to run concurrently', async () => {
    const name = 'pub/old';
    await createVersions(name, ['1.0.0', '1.1.0', '1.2.0', '2.0.0-rc.1', '2.0.0']);
    await publish(name, ['1.0.0', '1.1.0', '2.0.0-rc.1']);
    expect((await svc.call('DELETE', `/v1/assets/${name}/-/versions/2.0.0`)).status).toBe(200);
    const ddb = await doc();
    const table = svc.dynamo.tables.versions;
    // As the release before the index wrote them: published, in `live` / `stable`, without `publishedAsset`.
    for (const v of ['1.0.0', '1.1.0', '2.0.0-rc.1']) {
      await ddb.send(new UpdateCommand({ TableName: table, Key: { asset: name, vkey: versionKey(v) }, UpdateExpression: 'REMOVE publishedAsset' }));
    }
    expect(await resolved(name)).toBe(404);
    expect(await resolved(`${name}:>=2.0.0-0`)).toBe(404);
    expect(await resolved(name, false)).toBe('1.2.0');

    const { backfillPublished } = await import('../../functions/jobs/backfillPublished.ts');
    const runs = await Promise.all([backfillPublished(ddb, table), backfillPublished(ddb, table)]);
    // Both runs may see every item; each is written once, the other run's write is skipped.
    expect(runs.reduce((n, r) => n + r.updated, 0)).toBe(3);
    for (const r of runs) expect(r.updated + r.skipped).toBe(r.found);
    expect(await resolved(name)).toBe('1.1.0');
    expect(await resolved(`${name}:>=2.0.0-0`)).toBe('2.0.0-rc.1');
    expect(await resolved(`${name}:1.0.x || ^1.1.0`)).toBe('1.1.0');
    expect(await backfillPublished(ddb, table)).toEqual({ found: 0, updated: 0, skipped: 0 });
    // The tombstone and the ready version are left out; nothing a client sees (rev, updatedAt) moved.
    const items = await Promise.all(['1.2.0', '2.0.0', '1.1.0'].map(async (v) => (await ddb.send(new GetCommand({ TableName: table, Key: { asset: name, vkey: versionKey(v) } }))).Item));
    expect(items[0]).not.toHaveProperty('publishedAsset');
    expect(items[1]).not.toHaveProperty('publishedAsset');
    expect(items[2]).toMatchObject({ publishedAsset: name, rev: 2 });
  });

  it('createTables adds the index to a versions table made without it', async () => {
    const { createTables } = await import('../../functions/adapters/tables.ts');
    const prefix = 'old-';
    const { versions } = TABLES;
    const before = versions.globalIndexes.filter((i) => i.indexName !== 'published');
    const attrs = new Map([versions.partitionKey, versions.sortKey, ...before.flatMap((i) => [i.partitionKey, i.sortKey])].map((a) => [a.name, a.type]));
    await svc.dynamo.client.send(
      new CreateTableCommand({
        TableName: `${prefix}${versions.id}`,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: versions.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: versions.sortKey.name, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [...attrs].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
        GlobalSecondaryIndexes: before.map((i) => ({
          IndexName: i.indexName,
          KeySchema: [
            { AttributeName: i.partitionKey.name, KeyType: 'HASH' },
            { AttributeName: i.sortKey.name, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: i.projection },
        })),
      }),
    );
    const names = await createTables(svc.dynamo.client, prefix);
    const { Table } = await svc.dynamo.client.send(new DescribeTableCommand({ TableName: names.versions }));
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual(versions.globalIndexes.map((i) => i.indexName).sort());
    const published = Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === 'published');
    expect(published).toMatchObject({
      IndexStatus: 'ACTIVE',
      KeySchema: [
        { AttributeName: 'publishedAsset', KeyType: 'HASH' },
        { AttributeName: 'vkey', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    });
    // Run again: nothing left to add.
    await createTables(svc.dynamo.client, prefix);
  });
});
