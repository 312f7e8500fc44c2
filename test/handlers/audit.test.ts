/**
 * The audit log and alias history (issue 9) through the real handlers on DynamoDB Local, with IAM
 * principals so every actor differs: a scripted session, then the trail after the asset is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../contract/env.ts';
import { startService, type Service } from '../fixtures/service.ts';

const arn = (name: string) => `arn:aws:iam::123456789012:user/${name}`;
const GRANTS = [
  { principal: arn('root'), prefix: '', role: 'admin' },
  { principal: arn('alice'), prefix: 'audit/', role: 'writer' },
  { principal: arn('bob'), prefix: 'audit/', role: 'publisher' },
  { principal: arn('carol'), prefix: 'other/', role: 'admin' },
];
const as = (who: string, extra: Record<string, unknown> = {}) => ({ token: null, authorizer: { iam: { userArn: arn(who) } }, ...extra });
const sha = 'ab'.repeat(32);
const ASSET = 'audit/model';
const A = `/v1/assets/${ASSET}`;

let svc: Service;
/** Between the two moves of `prod`: when it pointed at 1.0.0. */
let betweenMoves: string;
let hookId: string;

const tick = () => new Promise((r) => setTimeout(r, 5));

beforeAll(async () => {
  svc = await startService({
    [ENV.authMode]: 'iam',
    [ENV.grants]: JSON.stringify(GRANTS),
    [ENV.hookSecretKey]: '44'.repeat(32),
    [ENV.hooksAllowInsecure]: 'true',
  });
  const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
  const { ddb } = await import('../../functions/adapters/dynamo.ts');
  // A verified blob: versions declaring it are ready at once, so no S3 is involved.
  await ddb.send(new PutCommand({ TableName: svc.dynamo.tables.blobs, Item: { sha256: sha, size: 3, verifiedAt: new Date().toISOString() } }));

  const ok = async (p: Promise<{ status: number; body: unknown }>, status: number) => {
    const res = await p;
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    await tick();
    return res;
  };
  const files = [{ path: 'm.bin', size: 3, sha256: sha }];
  await ok(svc.call('POST', '/v1/assets', { body: { name: ASSET, type: 'model' }, ...as('alice') }), 201);
  await ok(svc.call('PATCH', A, { body: { description: 'fraud scorer' }, ...as('alice') }), 200);
  for (const version of ['1.0.0', '1.1.0', '1.2.0']) await ok(svc.call('POST', `${A}/-/versions`, { body: { version, files }, ...as('alice') }), 201);
  await ok(svc.call('PATCH', `${A}/-/versions/1.1.0`, { body: { description: 'retrained' }, ...as('alice') }), 200);
  await ok(svc.call('POST', `${A}/-/versions/1.0.0/publish`, as('bob')), 200);
  await ok(svc.call('PUT', `${A}/-/aliases/prod`, { body: { version: '1.0.0' }, ...as('alice') }), 200);
  betweenMoves = new Date().toISOString();
  await tick();
  await ok(svc.call('PUT', `${A}/-/aliases/prod`, { body: { version: '1.1.0' }, ...as('bob') }), 200);
  await ok(svc.call('PUT', `${A}/-/aliases/staging`, { body: { version: '1.2.0' }, ...as('alice') }), 200);
  await ok(svc.call('DELETE', `${A}/-/aliases/staging`, as('bob')), 204);
  await ok(svc.call('DELETE', `${A}/-/versions/1.2.0?reason=${encodeURIComponent('bad build')}`, as('alice')), 200);
  const hook = await ok(svc.call('POST', '/v1/hooks', { body: { url: 'http://127.0.0.1:9/hook', events: ['Asset Deleted'] }, ...as('root') }), 201);
  hookId = (hook.body as { id: string }).id;
  await ok(svc.call('DELETE', `/v1/hooks/${hookId}`, as('root')), 204);
  await ok(svc.call('DELETE', `${A}?force=true&reason=retired`, as('root')), 204);
});
afterAll(() => svc?.stop());

type Entry = { action: string; actor: string; asset?: string; version?: string; alias?: string; from?: string; to?: string; reason?: string; hook?: string; requestId?: string; at: string };
const summary = (e: Entry) => [e.action, e.actor.split('/').pop(), e.version ?? e.alias ?? e.hook, e.from, e.to, e.reason].filter((x) => x !== undefined);

describe('audit log', () => {
  it("lists every action of the session on the asset, newest first, with its real actor and reason, after the asset's deletion", async () => {
    const res = await svc.call('GET', `/v1/audit?asset=${encodeURIComponent(ASSET)}`, as('alice'));
    expect(res.status).toBe(200);
    const items = res.body.items as Entry[];
    // The asset's deletion and the cascade's removal of `prod` share one instant, so their order is the ids'.
    expect(items.slice(0, 2).map(summary).sort()).toEqual([
      ['alias.delete', 'root', 'prod', 'retired'],
      ['asset.delete', 'root', 'retired'],
    ]);
    expect(items.slice(2).map(summary)).toEqual([
      ['version.delete', 'alice', '1.2.0', 'bad build'],
      ['alias.delete', 'bob', 'staging', '1.2.0'],
      ['alias.move', 'alice', 'staging', '1.2.0'],
      ['alias.move', 'bob', 'prod', '1.0.0', '1.1.0'],
      ['alias.move', 'alice', 'prod', '1.0.0'],
      ['version.publish', 'bob', '1.0.0'],
      ['version.edit', 'alice', '1.1.0'],
      ['version.create', 'alice', '1.2.0'],
      ['version.create', 'alice', '1.1.0'],
      ['version.create', 'alice', '1.0.0'],
      ['asset.edit', 'alice'],
      ['asset.create', 'alice'],
    ]);
    for (const e of items) expect(e).toMatchObject({ asset: ASSET, requestId: expect.any(String), at: expect.stringMatching(/Z$/) });
    expect(new Set(items.map((e) => e.requestId)).size).toBe(items.length - 1); // the asset delete's two entries share a request
  });

  it('records hook changes outside any asset, visible to a registry admin', async () => {
    const res = await svc.call('GET', '/v1/audit?limit=100', as('root'));
    expect(res.status).toBe(200);
    const hooks = (res.body.items as Entry[]).filter((e) => e.hook !== undefined).map(summary);
    expect(hooks).toEqual([
      ['hook.delete', 'root', hookId],
      ['hook.create', 'root', hookId],
    ]);
  });

  it('filters by actor (one Query) and by time, and pages with a cursor', async () => {
    svc.counts.clear();
    const bob = await svc.call('GET', `/v1/audit?actor=${encodeURIComponent(arn('bob'))}`, as('root'));
    expect(Object.fromEntries(svc.counts)).toEqual({ QueryCommand: 1 });
    expect((bob.body.items as Entry[]).map((e) => e.action)).toEqual(['alias.delete', 'alias.move', 'version.publish']);

    const since = await svc.call('GET', `/v1/audit?asset=${encodeURIComponent(ASSET)}&since=${betweenMoves}`, as('root'));
    expect((since.body.items as Entry[]).at(-1)).toMatchObject({ action: 'alias.move', alias: 'prod', to: '1.1.0' });
    const until = await svc.call('GET', `/v1/audit?asset=${encodeURIComponent(ASSET)}&until=${betweenMoves}`, as('root'));
    expect((until.body.items as Entry[])[0]).toMatchObject({ action: 'alias.move', alias: 'prod', to: '1.0.0' });
    expect(since.body.items.length + until.body.items.length).toBe(14);

    const seen: Entry[] = [];
    let cursor: string | undefined;
    do {
      const page = await svc.call('GET', `/v1/audit?asset=${encodeURIComponent(ASSET)}&limit=4${cursor ? `&cursor=${cursor}` : ''}`, as('root'));
      expect(page.status).toBe(200);
      seen.push(...(page.body.items as Entry[]));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(14);
  });

  it('needs reader on ?asset=, and admin on every name without it; bad filters are 400s', async () => {
    expect((await svc.call('GET', `/v1/audit?asset=${encodeURIComponent(ASSET)}`, as('carol'))).status).toBe(403);
    expect((await svc.call('GET', '/v1/audit', as('alice'))).status).toBe(403);
    expect((await svc.call('GET', '/v1/audit', as('carol'))).status).toBe(403);
    for (const q of ['since=yesterday', 'until=2026-13-01T00:00:00Z', 'limit=0', 'cursor=bm9wZQ', `since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z`]) {
      const res = await svc.call('GET', `/v1/audit?asset=${encodeURIComponent(ASSET)}&${q}`, as('root'));
      expect(res.status, q).toBe(400);
      expect(res.body.error.code).toBe('ValidationError');
    }
  });
});

describe('alias history', () => {
  it('lists every move of one alias newest first, the deletion with its asset included', async () => {
    const res = await svc.call('GET', `${A}/-/aliases/prod/history`, as('alice'));
    expect(res.status).toBe(200);
    expect((res.body.items as Entry[]).map(summary)).toEqual([
      ['alias.delete', 'root', 'prod', 'retired'],
      ['alias.move', 'bob', 'prod', '1.0.0', '1.1.0'],
      ['alias.move', 'alice', 'prod', '1.0.0'],
    ]);
  });

  it('answers what the alias pointed at at time T in one DynamoDB request', async () => {
    svc.counts.clear();
    const res = await svc.call('GET', `${A}/-/aliases/prod/history?at=${betweenMoves}`, as('alice'));
    expect(Object.fromEntries(svc.counts)).toEqual({ QueryCommand: 1 });
    expect(res.body.items).toEqual([expect.objectContaining({ action: 'alias.move', to: '1.0.0', actor: arn('alice') })]);
    const before = await svc.call('GET', `${A}/-/aliases/prod/history?at=2020-01-01T00:00:00Z`, as('alice'));
    expect(before.body.items).toEqual([]);
    expect((await svc.call('GET', `${A}/-/aliases/prod/history?at=soon`, as('alice'))).status).toBe(400);
    expect((await svc.call('GET', `${A}/-/aliases/prod/history`, as('carol'))).status).toBe(403);
  });
});
