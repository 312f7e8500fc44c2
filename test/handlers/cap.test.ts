/**
 * R-CAP, R-VER and R-ALIAS under concurrency on real DynamoDB Local, through the write handler:
 * the cap transaction, tombstones, both cap policies, expired pending versions, concurrent alias moves.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../fixtures/service.ts';

let svc: Service;
let ddb: Awaited<typeof import('../../functions/adapters/dynamo.ts')>['ddb'];
const VERIFIED = 'a'.repeat(64);
const UNVERIFIED = 'b'.repeat(64);

beforeAll(async () => {
  svc = await startService({ ARCA_MAX_VERSIONS_PER_ASSET: '30' });
  ({ ddb } = await import('../../functions/adapters/dynamo.ts'));
  await ddb.send(new PutCommand({ TableName: svc.dynamo.tables.blobs, Item: { sha256: VERIFIED, size: 1, verifiedAt: new Date().toISOString() } }));
});
afterAll(async () => svc?.stop());

const file = (sha256 = VERIFIED) => [{ path: 'm.bin', size: 1, sha256 }];
const createAsset = (name: string, capPolicy: 'refuse' | 'evict-oldest' = 'refuse') =>
  svc.call('POST', '/v1/assets', { body: { name, type: 'model', capPolicy } });
const create = (asset: string, body: Record<string, unknown>) => svc.call('POST', `/v1/assets/${asset}/-/versions`, { body: { files: file(), ...body } });

async function liveVersions(asset: string): Promise<string[]> {
  const out = await ddb.send(
    new QueryCommand({
      TableName: svc.dynamo.tables.versions,
      KeyConditionExpression: 'asset = :a',
      FilterExpression: '#s <> :d',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':a': asset, ':d': 'deleted' },
    }),
  );
  return (out.Items ?? []).map((i) => String(i.version));
}

const liveCount = async (asset: string) =>
  Number((await ddb.send(new GetCommand({ TableName: svc.dynamo.tables.assets, Key: { name: asset } }))).Item?.liveCount);

describe('the version cap (R-CAP)', () => {
  // R-CAP: "100 simultaneous creates on an asset with 25 live versions → exactly 5 succeed".
  it.each([40, 100])('%i concurrent creates on 25 live versions: exactly 5 succeed, the rest VersionCapReached, 30 distinct live', async (n) => {
    const asset = `race/cap${n}`;
    await createAsset(asset);
    for (let i = 0; i < 25; i++) expect((await create(asset, { bump: 'minor' })).status).toBe(201);
    const results = await Promise.all(Array.from({ length: n }, () => create(asset, { bump: 'minor' })));
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409 && r.body.error.code === 'VersionCapReached');
    expect(created).toHaveLength(5);
    expect(refused).toHaveLength(n - 5);
    expect(new Set(created.map((r) => r.body.version)).size).toBe(5);
    const live = await liveVersions(asset);
    expect(live).toHaveLength(30);
    expect(new Set(live).size).toBe(30);
    expect(await liveCount(asset)).toBe(30);
    expect(refused[0]?.body.error.message).toMatch(/holds 30 live versions.*delete a version.*evict-oldest/);
    expect(refused[0]?.body.error.details).toEqual({ asset, liveVersions: 30, maxVersionsPerAsset: 30 });
  });

  it('10 concurrent creates of one explicit version: exactly one wins, the rest AlreadyExists', async () => {
    await createAsset('race/same');
    const results = await Promise.all(Array.from({ length: 10 }, () => create('race/same', { version: '3.1.4' })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409 && r.body.error.code === 'AlreadyExists')).toHaveLength(9);
    expect(await liveCount('race/same')).toBe(1);
  });

  it('a deleted version string is never reused; bump continues above it', async () => {
    await createAsset('tomb/one');
    expect((await create('tomb/one', { version: '1.2' })).body.version).toBe('1.2.0');
    expect((await svc.call('DELETE', '/v1/assets/tomb/one/-/versions/1.2.0')).status).toBe(200);
    const again = await create('tomb/one', { version: '1.2.0' });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'AlreadyExists' } } });
    expect((await create('tomb/one', { bump: 'patch' })).body.version).toBe('1.2.1');
    expect(await liveCount('tomb/one')).toBe(1);
  });

  it('evict-oldest deletes the oldest ready, unpublished, unaliased version in the same step', async () => {
    const cap = 30;
    await createAsset('evict/one', 'evict-oldest');
    for (let i = 0; i < cap; i++) await create('evict/one', { bump: 'minor' });
    await svc.call('PUT', '/v1/assets/evict/one/-/aliases/keep', { body: { version: '1.0.0' } });
    await svc.call('POST', '/v1/assets/evict/one/-/versions/1.1.0/publish');
    const res = await create('evict/one', { bump: 'minor' });
    expect(res.status).toBe(201);
    const live = await liveVersions('evict/one');
    expect(live).toHaveLength(cap);
    expect(live).toContain('1.0.0');
    expect(live).toContain('1.1.0');
    expect(live).not.toContain('1.2.0');
    expect(await liveCount('evict/one')).toBe(cap);
    const evicted = await svc.call('GET', '/v1/assets/evict/one/-/versions?includeDeleted=true&status=deleted');
    expect(evicted.body.items.map((v: { version: string; deleteReason?: string }) => [v.version, v.deleteReason])).toEqual([
      ['1.2.0', 'evicted by capPolicy evict-oldest'],
    ]);
  });

  it('evict-oldest refuses when no version qualifies', async () => {
    // Every live version is pending: none is a ready version to evict.
    await createAsset('evict/none', 'evict-oldest');
    for (let i = 0; i < 30; i++) expect((await create('evict/none', { bump: 'minor', files: file(UNVERIFIED) })).body.status).toBe('pending');
    const res = await create('evict/none', { bump: 'minor' });
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'VersionCapReached' } } });
  });

  it('expired pending versions are tombstoned to make room', async () => {
    await createAsset('expire/one');
    for (let i = 0; i < 30; i++) await create('expire/one', { bump: 'minor', files: file(UNVERIFIED) });
    expect((await create('expire/one', { bump: 'minor' })).status).toBe(409);
    await ddb.send(
      new UpdateCommand({
        TableName: svc.dynamo.tables.versions,
        Key: { asset: 'expire/one', vkey: '0000000000000001.0000000000000003.0000000000000000~' },
        UpdateExpression: 'SET pendingExpiresAt = :past',
        ExpressionAttributeValues: { ':past': 1 },
      }),
    );
    const expired = await svc.call('GET', '/v1/assets/expire/one/-/versions/1.3.0');
    expect(expired).toMatchObject({ status: 404, body: { error: { code: 'NotFound' } } });
    const res = await create('expire/one', { bump: 'minor' });
    expect(res.status).toBe(201);
    expect(await liveCount('expire/one')).toBe(30);
    const tomb = await svc.call('GET', '/v1/assets/expire/one/-/versions?status=deleted');
    expect(tomb.body.items).toMatchObject([{ version: '1.3.0', status: 'deleted', deleteReason: 'pending version expired' }]);
  });
});

describe('aliases under concurrency (R-ALIAS)', () => {
  it('concurrent moves leave the alias on an existing version and the alias sets consistent', async () => {
    await createAsset('race/alias');
    const versions = ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0'];
    for (const version of versions) await create('race/alias', { version });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => svc.call('PUT', '/v1/assets/race/alias/-/aliases/prod', { body: { version: versions[i % versions.length] } })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const alias = await svc.call('GET', '/v1/assets/race/alias/-/aliases');
    expect(alias.body.items).toHaveLength(1);
    const target = alias.body.items[0].version;
    expect(versions).toContain(target);
    const holders: string[] = [];
    for (const version of versions) {
      const v = await svc.call('GET', `/v1/assets/race/alias/-/versions/${version}`);
      if (v.body.aliases.includes('prod')) holders.push(version);
    }
    expect(holders).toEqual([target]);
    const deleted = await svc.call('DELETE', `/v1/assets/race/alias/-/versions/${target}`);
    expect(deleted).toMatchObject({ status: 409, body: { error: { code: 'AliasInUse', details: { aliases: ['prod'] } } } });
  });

  it('an alias points only to a ready or published version', async () => {
    await create('race/alias', { version: '2.0.0', files: file(UNVERIFIED) });
    const pending = await svc.call('PUT', '/v1/assets/race/alias/-/aliases/next', { body: { version: '2.0.0' } });
    expect(pending).toMatchObject({ status: 409, body: { error: { code: 'VersionNotReady' } } });
    const missing = await svc.call('PUT', '/v1/assets/race/alias/-/aliases/next', { body: { version: '9.9.9' } });
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'NotFound' } } });
    const latest = await svc.call('PUT', '/v1/assets/race/alias/-/aliases/latest', { body: { version: '1.0.0' } });
    expect(latest).toMatchObject({ status: 400, body: { error: { code: 'ValidationError' } } });
  });
});
