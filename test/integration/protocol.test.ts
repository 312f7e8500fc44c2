/**
 * HTTP protocol rules of R-API over local mode: Idempotency-Key on version creation, ETag / If-Match on
 * PATCH, cursor pagination, and `x-request-id` on every answer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AssetRecord, Page, VersionRecord } from '../../contract/schemas.ts';
import { call, createAsset, declare, expectError, pushVersion, uniqueName, type ApiResponse } from './api.ts';

const name = uniqueName('protocol');

beforeAll(async () => {
  await createAsset(name, { description: 'first' });
});

describe('protocol', () => {
  it('replays a version creation sent twice with one Idempotency-Key: one version, the same answer', async () => {
    const body = { files: [declare({ path: 'm.bin', bytes: Buffer.from(`${name} idempotent`) })] };
    const headers = { 'idempotency-key': `key-${name}` };
    const first = await call<VersionRecord>('POST', `/v1/assets/${name}/-/versions`, { json: body, headers });
    expect(first.status, first.text).toBe(201);
    const second = await call<VersionRecord>('POST', `/v1/assets/${name}/-/versions`, { json: body, headers });
    expect(second.status, second.text).toBe(201);
    expect(second.body.version).toBe(first.body.version);
    expect(second.body.createdAt).toBe(first.body.createdAt);

    const versions = await call<Page<VersionRecord>>('GET', `/v1/assets/${name}/-/versions`);
    expect(versions.body.items.map((v) => v.version)).toEqual([first.body.version]);
  });

  it('honours If-Match on PATCH: a stale ETag is 412 and changes nothing, the current one applies and moves the ETag', async () => {
    const current = await call<AssetRecord>('GET', `/v1/assets/${name}`);
    expect(current.status).toBe(200);
    const etag = current.headers.get('etag')!;
    expect(etag).toBe(current.body.etag);

    const applied = await call<AssetRecord>('PATCH', `/v1/assets/${name}`, { json: { description: 'second' }, headers: { 'if-match': etag } });
    expect(applied.status, applied.text).toBe(200);
    expect(applied.body.description).toBe('second');
    expect(applied.headers.get('etag')).not.toBe(etag);

    expectError(await call('PATCH', `/v1/assets/${name}`, { json: { description: 'third' }, headers: { 'if-match': etag } }), 412, 'PreconditionFailed');
    const after = await call<AssetRecord>('GET', `/v1/assets/${name}`);
    expect(after.body.description).toBe('second');
  });

  it('pages lists with limit and an opaque cursor, newest version first', async () => {
    for (const version of ['5.0.0', '5.1.0', '5.2.0']) await pushVersion(name, [{ path: 'm.bin', bytes: Buffer.from(`${name} ${version}`) }], { version });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page: ApiResponse<Page<VersionRecord>> = await call<Page<VersionRecord>>(
        'GET',
        `/v1/assets/${name}/-/versions?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.status, page.text).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((v) => v.version));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.slice(0, 3)).toEqual(['5.2.0', '5.1.0', '5.0.0']);
    expect(new Set(seen).size).toBe(seen.length);
    expectError(await call('GET', `/v1/assets/${name}/-/versions?limit=101`), 400, 'ValidationError');
  });

  it('puts x-request-id on every answer: success, error, unknown route, health', async () => {
    const answers = await Promise.all([
      call('GET', `/v1/assets/${name}`),
      call('GET', `/v1/assets/${name}-nope`),
      call('GET', '/v2/whatever'),
      call('GET', '/v1/health', { token: null }),
    ]);
    for (const res of answers) expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(answers.map((r) => r.headers.get('x-request-id'))).size).toBe(answers.length);
  });
});
