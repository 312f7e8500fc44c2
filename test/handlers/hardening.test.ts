/**
 * Each class of 500 an adversarial run found (issue 10), through the real handlers on DynamoDB Local:
 * now a 400 in the error shape, or (asset delete without a reason) the success it should have been.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../contract/schemas.ts';
import { startService, type Service } from '../fixtures/service.ts';
import type { EventOptions } from '../fixtures/events.ts';

mockClient(S3Client);
let svc: Service;
const call = (method: string, path: string, opts: EventOptions = {}) => svc.call(method, path, opts);
const VERIFIED = 'a'.repeat(64);
const HOOK = 'b'.repeat(32);
const files = [{ path: 'm.bin', size: 1, sha256: VERIFIED }];
const cursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
/** `{"a":{"a":…1…}}`, `levels` objects deep, as raw JSON text. */
const nested = (levels: number) => `${'{"a":'.repeat(levels - 1)}{"a":1}${'}'.repeat(levels - 1)}`;

beforeAll(async () => {
  svc = await startService();
  const { ddb } = await import('../../functions/adapters/dynamo.ts');
  const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
  const hook = { id: HOOK, url: 'https://example.com/h', events: ['Asset Created'], secret: 'sealed', createdAt: 'now', createdBy: 'test' };
  await ddb.send(new PutCommand({ TableName: svc.dynamo.tables.hooks, Item: hook }));
  await call('POST', '/v1/assets', { body: { name: 'hard/a', type: 'model' } });
  await call('POST', '/v1/assets/hard/a/-/versions', { body: { version: '1.0.0', files } });
});
afterAll(async () => svc?.stop());

const createVersion = (field: string, json: string) =>
  call('POST', '/v1/assets/hard/a/-/versions', { rawBody: `{"files":${JSON.stringify(files)},"${field}":${json}}` });

describe('free-form JSON is refused where DynamoDB or the runtime could not take it (one layer)', () => {
  it.each([
    ['one level too deep', 'hyperparameters', nested(MAX_JSON_DEPTH + 1), 'nested deeper'],
    // Deep enough to overflow a recursive walk or JSON.stringify, and still under the 1 MiB body limit.
    ['150,000 levels', 'config', nested(150_000), 'nested deeper'],
    ['an underflow', 'params', '{"lr":1e-200}', 'magnitude'],
    ['an overflow in an array', 'hyperparameters', '{"big":[1e200]}', 'magnitude'],
    ['a metric underflow', 'metrics', '{"loss":1e-200}', 'magnitude'],
    ['__proto__', 'config', '{"__proto__":{"polluted":true}}', 'reserved'],
    ['a nested constructor', 'params', '{"x":{"constructor":1}}', 'reserved'],
    ['prototype', 'metrics', '{"prototype":1}', 'reserved'],
  ])('%s in %s → 400', async (_what, field, json, words) => {
    const res = await createVersion(field, json);
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 400, code: 'ValidationError' });
    expect(res.body.error.requestId).toBe(res.headers['x-request-id']);
    expect(JSON.stringify(res.body)).toContain(words);
  });

  it('the deepest storable object, numbers at DynamoDB’s bounds and integers over 2^53 are stored and read back as sent', async () => {
    const res = await createVersion('hyperparameters', nested(MAX_JSON_DEPTH));
    expect(res.status).toBe(201);
    const version = res.body.version as string;
    const edit = await call('PATCH', `/v1/assets/hard/a/-/versions/${version}`, { body: { metrics: { tiny: 1e-130, huge: 9.99e125, zero: 0, overSafeInteger: 1e20 } } });
    expect(edit.status).toBe(200);
    const got = await call('GET', `/v1/assets/hard/a/-/versions/${version}`);
    expect(got.body.metrics).toEqual({ tiny: 1e-130, huge: 9.99e125, zero: 0, overSafeInteger: 1e20 });
    expect(JSON.stringify(got.body.hyperparameters)).toBe(nested(MAX_JSON_DEPTH));
  });
});

describe('cursors with empty or wrong-typed key values are 400 on every listing', () => {
  it.each([
    ['assets: an empty name', `/v1/assets?cursor=${cursor({ listPk: 'all', name: '' })}`],
    ['assets: a name over the key size', `/v1/assets?cursor=${cursor({ listPk: 'all', name: 'a'.repeat(1025) })}`],
    ['assets by update: a null key', `/v1/assets?sort=updated&cursor=${cursor({ listPk: 'all', name: 'x', updatedKey: null })}`],
    ['versions: an empty vkey', `/v1/assets/hard/a/-/versions?cursor=${cursor({ asset: 'hard/a', vkey: '' })}`],
    ['versions: an object vkey', `/v1/assets/hard/a/-/versions?cursor=${cursor({ asset: 'hard/a', vkey: { S: 'x' } })}`],
    ['aliases: an empty alias', `/v1/assets/hard/a/-/aliases?cursor=${cursor({ asset: 'hard/a', alias: '' })}`],
    ['hooks: an empty id', `/v1/hooks?cursor=${cursor({ id: '' })}`],
    ['hooks: a number id', `/v1/hooks?cursor=${cursor({ id: 7 })}`],
    ['deliveries: an empty sk', `/v1/hooks/${HOOK}/deliveries?cursor=${cursor({ hookId: HOOK, sk: '' })}`],
  ])('%s', async (_what, path) => {
    const res = await call('GET', path);
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 400, code: 'ValidationError' });
  });
});

describe('specs', () => {
  it.each([['/v1/resolve/hard/a:'], ['/v1/resolve/hard/a:/m.bin'], ['/v1/resolve/hard/a:1.0.0/a%5Cb']])('%s → 400', async (path) => {
    const res = await call('GET', path);
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 400, code: 'ValidationError' });
  });
});

describe('asset delete', () => {
  // With no live version no reason is needed, and the absent reason once left an unused attribute name (a 500).
  it.each([['/v1/assets/hard/gone?force=true'], ['/v1/assets/hard/gone?force=true&reason=%20%20']])('%s removes an asset with no live version', async (path) => {
    await call('POST', '/v1/assets', { body: { name: 'hard/gone', type: 'model' } });
    const res = await call('DELETE', path);
    expect(res.status).toBe(204);
    expect((await call('GET', '/v1/assets/hard/gone')).status).toBe(404);
  });
});

describe('filtered listings fill the page (DynamoDB applies Limit before the filter)', () => {
  const names = Array.from({ length: 30 }, (_, i) => `hard/f/${String(i).padStart(2, '0')}`);
  beforeAll(async () => {
    for (const [i, name] of names.entries()) {
      await call('POST', '/v1/assets', { body: { name, type: i === 29 ? 'dataset' : 'model', tags: i % 3 === 0 ? ['every-third'] : [] } });
    }
  });

  it('the one match behind 29 misses is on the first page', async () => {
    const res = await call('GET', '/v1/assets?prefix=hard/f/&type=dataset&limit=5');
    expect(res.body.items.map((a: { name: string }) => a.name)).toEqual(['hard/f/29']);
    expect(res.body.nextCursor).toBeUndefined();
  });

  it.each([['name'], ['updated']])('pages of a tag filter (sort=%s) are full, distinct, and together every match', async (sort) => {
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const res = await call('GET', `/v1/assets?prefix=hard/f/&tag=every-third&limit=4&sort=${sort}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      sizes.push(res.body.items.length);
      seen.push(...res.body.items.map((a: { name: string }) => a.name));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(sizes).toEqual([4, 4, 2]);
    expect([...seen].sort()).toEqual(names.filter((_, i) => i % 3 === 0));
  });
});
