/**
 * Grants routes and protected aliases through the real handlers on DynamoDB Local (IAM mode): strict
 * validation of principals and prefixes, idempotent upsert, filtered paging, revoke; an alias named in the
 * asset's protectedAliases moves or goes only for a publisher or above, and only they change the list.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../contract/env.ts';
import { startService, type Service } from '../fixtures/service.ts';

const arn = (name: string) => `arn:aws:iam::123456789012:role/${name}`;
const ROOT = arn('root');
const as = (principal: string) => ({ token: null, authorizer: { iam: { userArn: principal } } });
const sha = (n: number) => n.toString(16).padStart(64, '0');

let svc: Service;
beforeAll(async () => {
  svc = await startService({ [ENV.authMode]: 'iam', [ENV.grants]: JSON.stringify([{ principal: ROOT, prefix: '', role: 'admin' }]) });
});
afterAll(() => svc?.stop());

const put = (body: unknown, who = ROOT) => svc.call('PUT', '/v1/grants', { body, ...as(who) });

describe('grant routes', () => {
  it.each([
    ['an sts assumed-role ARN', 'arn:aws:sts::123456789012:assumed-role/ml-team/alice'],
    ['a JWT subject', '0f3c2a1e-8b7d-4c55-9e2b-1a2b3c4d5e6f'],
    ['a JWT group', 'group:fraud-scientists'],
  ])('accepts %s as principal', async (_kind, principal) => {
    const res = await put({ principal, prefix: 'fraud/', role: 'reader' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ principal, prefix: 'fraud/', role: 'reader', grantedBy: ROOT });
  });

  it.each([
    ['an ARN of another service', { principal: 'arn:aws:s3:::bucket', prefix: '', role: 'reader' }],
    ['an ARN without a 12-digit account', { principal: 'arn:aws:iam::12:role/x', prefix: '', role: 'reader' }],
    ['an empty group', { principal: 'group:', prefix: '', role: 'reader' }],
    ['a subject with a space', { principal: 'alice smith', prefix: '', role: 'reader' }],
    ['an empty principal', { principal: '', prefix: '', role: 'reader' }],
    ['an upper-case prefix', { principal: arn('x'), prefix: 'Fraud/', role: 'reader' }],
    ['a prefix with an empty segment', { principal: arn('x'), prefix: 'fraud//', role: 'reader' }],
    ['a prefix with ..', { principal: arn('x'), prefix: 'a..b', role: 'reader' }],
    ['a prefix longer than a name', { principal: arn('x'), prefix: `${'a'.repeat(60)}/`.repeat(5), role: 'reader' }],
    ['an unknown role', { principal: arn('x'), prefix: '', role: 'owner' }],
    ['an unknown field', { principal: arn('x'), prefix: '', role: 'reader', expires: 1 }],
    ['a missing prefix', { principal: arn('x'), role: 'reader' }],
  ])('refuses %s with 400', async (_why, body) => {
    const res = await put(body);
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 400, code: 'ValidationError' });
  });

  it('upserts: the same principal and prefix again replaces the role, one item', async () => {
    const who = arn('upsert');
    expect((await put({ principal: who, prefix: 'team/', role: 'reader' })).status).toBe(200);
    expect((await put({ principal: who, prefix: 'team/', role: 'publisher' })).status).toBe(200);
    const list = await svc.call('GET', '/v1/grants', { query: { principal: who }, ...as(ROOT) });
    expect(list.body.items).toEqual([expect.objectContaining({ principal: who, prefix: 'team/', role: 'publisher' })]);
  });

  it('lists by principal and by prefix, in pages', async () => {
    const who = arn('pager');
    for (const prefix of ['', 'a/', 'a/b', 'c/']) expect((await put({ principal: who, prefix, role: 'reader' })).status).toBe(200);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await svc.call('GET', '/v1/grants', { query: { principal: who, limit: '3', ...(cursor ? { cursor } : {}) }, ...as(ROOT) });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((g: { prefix: string }) => g.prefix));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(['', 'a/', 'a/b', 'c/']);
    const underA = await svc.call('GET', '/v1/grants', { query: { principal: who, prefix: 'a/' }, ...as(ROOT) });
    expect(underA.body.items.map((g: { prefix: string }) => g.prefix)).toEqual(['a/', 'a/b']);
    const everyone = await svc.call('GET', '/v1/grants', { query: { prefix: 'c/' }, ...as(ROOT) });
    expect(everyone.body.items).toEqual([expect.objectContaining({ principal: who, prefix: 'c/' })]);
  });

  it('revokes a grant, the every-name one by prefix= (empty); a grant not in the table is 404', async () => {
    const who = arn('revoked');
    await put({ principal: who, prefix: '', role: 'writer' });
    expect((await svc.call('DELETE', '/v1/grants', { query: { principal: who, prefix: '' }, ...as(ROOT) })).status).toBe(204);
    const again = await svc.call('DELETE', '/v1/grants', { query: { principal: who, prefix: '' }, ...as(ROOT) });
    expect({ status: again.status, code: again.body.error.code }).toEqual({ status: 404, code: 'NotFound' });
    // Deploy-time grants are not in the table: changing them is a redeploy.
    const root = await svc.call('DELETE', '/v1/grants', { query: { principal: ROOT, prefix: '' }, ...as(ROOT) });
    expect(root.status).toBe(404);
    const noPrefix = await svc.call('DELETE', '/v1/grants', { query: { principal: who }, ...as(ROOT) });
    expect(noPrefix.status).toBe(400);
  });

  it('an admin of one prefix cannot grant anything, not even on its own prefix', async () => {
    const prefixAdmin = arn('prefix-admin');
    await put({ principal: prefixAdmin, prefix: 'mine/', role: 'admin' });
    const res = await put({ principal: arn('friend'), prefix: 'mine/', role: 'reader' }, prefixAdmin);
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 403, code: 'Forbidden' });
  });
});

describe('protected aliases', () => {
  const WRITER = arn('pa-writer');
  const PUBLISHER = arn('pa-publisher');
  const asset = 'pa/model';
  const base = `/v1/assets/${asset}`;

  beforeAll(async () => {
    await put({ principal: WRITER, prefix: 'pa/', role: 'writer' });
    await put({ principal: PUBLISHER, prefix: 'pa/', role: 'publisher' });
    await svc.dynamo.client.send(new PutCommand({ TableName: svc.dynamo.tables.blobs, Item: { sha256: sha(7), size: 3, verifiedAt: new Date().toISOString() } }));
    const created = await svc.call('POST', '/v1/assets', { body: { name: asset, type: 'model', protectedAliases: ['prod'] }, ...as(PUBLISHER) });
    expect(created.status).toBe(201);
    expect(created.body.protectedAliases).toEqual(['prod']);
    for (const version of ['1.0.0', '1.1.0']) {
      const v = await svc.call('POST', `${base}/-/versions`, { body: { version, files: [{ path: 'm.bin', size: 3, sha256: sha(7) }] }, ...as(WRITER) });
      expect(v.body.status).toBe('ready');
    }
  });

  it('a writer moves an unprotected alias but gets 403 naming the rule on a protected one', async () => {
    expect((await svc.call('PUT', `${base}/-/aliases/staging`, { body: { version: '1.0.0' }, ...as(WRITER) })).status).toBe(200);
    const res = await svc.call('PUT', `${base}/-/aliases/prod`, { body: { version: '1.0.0' }, ...as(WRITER) });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'Forbidden', details: { role: 'publisher', alias: 'prod' } });
    expect(res.body.error.message).toMatch(/protected.*protectedAliases.*publisher/);
    expect((await svc.call('GET', `/v1/resolve/${asset}:prod`, as(WRITER))).status).toBe(404);
  });

  it('a publisher moves it; a writer then can neither move nor delete it', async () => {
    expect((await svc.call('PUT', `${base}/-/aliases/prod`, { body: { version: '1.0.0' }, ...as(PUBLISHER) })).status).toBe(200);
    expect((await svc.call('PUT', `${base}/-/aliases/prod`, { body: { version: '1.1.0' }, ...as(WRITER) })).status).toBe(403);
    expect((await svc.call('DELETE', `${base}/-/aliases/prod`, as(WRITER))).status).toBe(403);
    expect((await svc.call('GET', `/v1/resolve/${asset}:prod`, as(WRITER))).body.version).toBe('1.0.0');
    expect((await svc.call('DELETE', `${base}/-/aliases/staging`, as(WRITER))).status).toBe(204);
  });

  it('only a publisher changes the list; a writer edits other fields with the list unchanged', async () => {
    const writerEdit = await svc.call('PATCH', base, { body: { protectedAliases: [] }, ...as(WRITER) });
    expect({ status: writerEdit.status, role: writerEdit.body.error?.details?.role }).toEqual({ status: 403, role: 'publisher' });
    expect((await svc.call('PATCH', base, { body: { description: 'x', protectedAliases: ['prod'] }, ...as(WRITER) })).status).toBe(200);
    const creating = await svc.call('POST', '/v1/assets', { body: { name: 'pa/other', type: 'model', protectedAliases: ['prod'] }, ...as(WRITER) });
    expect(creating.status).toBe(403);
    const lifted = await svc.call('PATCH', base, { body: { protectedAliases: [] }, ...as(PUBLISHER) });
    expect(lifted.body.protectedAliases).toEqual([]);
    expect((await svc.call('PUT', `${base}/-/aliases/prod`, { body: { version: '1.1.0' }, ...as(WRITER) })).status).toBe(200);
  });

  it.each([[['Prod']], [['latest']], [['a', 'a']], [['x']]])('refuses protectedAliases %j with 400', async (list) => {
    const res = await svc.call('PATCH', base, { body: { protectedAliases: list }, ...as(PUBLISHER) });
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 400, code: 'ValidationError' });
  });
});
