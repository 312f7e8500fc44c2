/**
 * Every error code of R-ERR through the exported group handlers (IAM auth with grants, DynamoDB Local,
 * S3 mocked): status, headers and the `{ error: { code, message, requestId, details? } }` body together.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ThrottlingException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_STATUS, type ErrorCode } from '../../contract/errors.ts';
import { startService, type Service } from '../fixtures/service.ts';
import type { EventOptions, Response } from '../fixtures/events.ts';

const ADMIN = 'arn:aws:iam::111111111111:role/admin';
const READER = 'arn:aws:iam::111111111111:role/reader';
const s3 = mockClient(S3Client);
let svc: Service;
/** Makes the service's next DynamoDB request fail with this error (what DynamoDB Local will not do on demand). */
let failNext: Error | undefined;
/** The same, for the next TransactWriteItems only. */
let failNextTransaction: Error | undefined;

const as = (arn: string | undefined, opts: EventOptions = {}): EventOptions => ({ token: null, ...(arn ? { authorizer: { iam: { userArn: arn } } } : {}), ...opts });
const call = (method: string, path: string, opts: EventOptions = {}) => svc.call(method, path, as(ADMIN, opts));
const sha = (b: string) => createHash('sha256').update(b).digest('hex');
const VERIFIED = 'a'.repeat(64);
const HOOK = 'a'.repeat(32);

beforeAll(async () => {
  svc = await startService({
    ARCA_AUTH_MODE: 'iam',
    ARCA_GRANTS: JSON.stringify([
      { principal: ADMIN, prefix: '', role: 'admin' },
      { principal: READER, prefix: 'err/', role: 'reader' },
    ]),
    ARCA_MAX_VERSIONS_PER_ASSET: '3',
  });
  const { dynamoClient, ddb } = await import('../../functions/adapters/dynamo.ts');
  dynamoClient.middlewareStack.add(
    (next, context) => async (args) => {
      const err = failNext ?? (context.commandName === 'TransactWriteItemsCommand' ? failNextTransaction : undefined);
      if (err === failNext) failNext = undefined;
      else failNextTransaction = undefined;
      if (err) throw err;
      return next(args);
    },
    { step: 'initialize', name: 'injectFailure' },
  );
  const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
  await ddb.send(new PutCommand({ TableName: svc.dynamo.tables.blobs, Item: { sha256: VERIFIED, size: 1, verifiedAt: 'now' } }));
  const hook = { id: HOOK, url: 'https://example.com/h', events: ['Asset Created'], secret: 'sealed', createdAt: 'now', createdBy: ADMIN };
  await ddb.send(new PutCommand({ TableName: svc.dynamo.tables.hooks, Item: hook }));
  const ready = [{ path: 'm.bin', size: 1, sha256: VERIFIED }];
  await call('POST', '/v1/assets', { body: { name: 'err/a', type: 'model' } });
  // The same params on every version: the paramsHash listing below needs two versions under one hash to page.
  await call('POST', '/v1/assets/err/a/-/versions', { body: { version: '1.0.0', files: ready, params: { seed: 1 } } });
  await call('POST', '/v1/assets/err/a/-/versions/1.0.0/publish');
  await call('PUT', '/v1/assets/err/a/-/aliases/prod', { body: { version: '1.0.0' } });
  await call('POST', '/v1/assets/err/a/-/versions', { body: { version: '1.1.0', files: [{ path: 'm.bin', size: 5, sha256: sha('right') }], params: { seed: 1 } } });
  await call('POST', '/v1/assets/err/a/-/versions', { body: { version: '1.2.0', files: [{ path: 'n.bin', size: 5, sha256: sha('other') }], params: { seed: 1 } } });
});
afterAll(async () => svc?.stop());

type Case = [ErrorCode, string, () => Promise<Response>, Record<string, unknown>?];

const cases: Case[] = [
  ['ValidationError', 'a bad asset name names the segment', () => call('POST', '/v1/assets', { body: { name: 'Bad/-x', type: 'model' } }), { segment: 'Bad' }],
  ['ValidationError', 'malformed JSON', () => call('POST', '/v1/assets', { rawBody: '{"name":' })],
  ['ValidationError', 'a field out of its rule', () => call('POST', '/v1/assets', { body: { name: 'err/b', type: 'spreadsheet' } })],
  ['ValidationError', 'a malformed spec', () => call('GET', '/v1/resolve/err/a:1.2.3+build')],
  ['Unauthorized', 'an unsigned request', () => svc.call('GET', '/v1/assets/err/a', as(undefined))],
  ['Forbidden', 'a reader creating a version', () => svc.call('POST', '/v1/assets/err/a/-/versions', as(READER, { body: { files: [] } })), { role: 'writer', name: 'err/a' }],
  ['Forbidden', 'a reader outside its prefix', () => svc.call('GET', '/v1/assets/other/x', as(READER))],
  ['NotFound', 'no such asset', () => call('GET', '/v1/assets/err/none')],
  ['NotFound', 'no such route', () => call('GET', '/v1/nothing-here')],
  ['NotFound', 'no version matches the spec (echoed)', () => call('GET', '/v1/resolve/err/a:^7'), { spec: 'err/a:^7' }],
  ['AlreadyExists', 'the asset exists', () => call('POST', '/v1/assets', { body: { name: 'err/a', type: 'model' } })],
  ['VersionCapReached', 'the cap is 3', () => call('POST', '/v1/assets/err/a/-/versions', { body: { files: [{ path: 'm.bin', size: 1, sha256: VERIFIED }] } }), { liveVersions: 3, maxVersionsPerAsset: 3 }],
  ['VersionPublished', 'editing a published version', () => call('PATCH', '/v1/assets/err/a/-/versions/1.0.0', { body: { tags: ['x'] } })],
  ['VersionNotReady', 'publishing a pending version', () => call('POST', '/v1/assets/err/a/-/versions/1.1.0/publish')],
  ['AliasInUse', 'deleting an aliased version', () => call('DELETE', '/v1/assets/err/a/-/versions/1.0.0?force=true&reason=x'), { aliases: ['prod'] }],
  [
    'UploadIncomplete',
    'committing before the bytes arrived',
    () => {
      s3.reset();
      s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no', $metadata: { httpStatusCode: 404 } }));
      return call('POST', '/v1/assets/err/a/-/versions/1.1.0/commit');
    },
    { missing: [{ path: 'm.bin', sha256: sha('right') }] },
  ],
  ['PreconditionFailed', 'a stale If-Match', () => call('PATCH', '/v1/assets/err/a', { body: { description: 'x' }, headers: { 'if-match': '"99"' } }), { etag: '"1"' }],
  ['PayloadTooLarge', 'a body over 1 MiB', () => call('POST', '/v1/assets', { rawBody: JSON.stringify({ name: 'err/c', type: 'model', description: 'x'.repeat(1024 * 1024) }) })],
  ['PayloadTooLarge', 'a field over its limit', () => call('POST', '/v1/assets', { body: { name: 'err/c', type: 'model', description: 'x'.repeat(65 * 1024) } })],
  [
    'ChecksumMismatch',
    'stored bytes that are not the declared ones',
    () => {
      s3.reset();
      s3.on(GetObjectCommand).callsFake(async () => ({ Body: Readable.from([Buffer.from('wrong')]) }));
      return call('POST', '/v1/assets/err/a/-/versions/1.2.0/commit');
    },
    { files: [{ path: 'n.bin', sha256: sha('other'), reason: `stored bytes hash to ${sha('wrong')}` }] },
  ],
  [
    'Throttled',
    'DynamoDB throttling',
    () => {
      failNext = new ThrottlingException({ message: 'Rate exceeded', $metadata: {} });
      return call('GET', '/v1/assets/err/a/-/versions/1.0.0');
    },
  ],
  [
    'Internal',
    'a fault of the service',
    () => {
      failNext = new TypeError('secret internals at /var/task/index.js:1');
      return call('GET', '/v1/assets/err/a/-/versions/1.0.0');
    },
  ],
];

describe('every error code (R-ERR)', () => {
  it('covers the whole error table', () => {
    expect(new Set(cases.map(([c]) => c))).toEqual(new Set(ERROR_CODES));
  });

  it.each(cases)('%s: %s', async (codeName, _what, run, details) => {
    const res = await run();
    const requestId = res.headers['x-request-id'];
    expect(requestId).toMatch(/[0-9a-f-]{36}/);
    expect(res.status).toBe(ERROR_STATUS[codeName]);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toEqual({ error: { code: codeName, message: expect.any(String), requestId, ...(res.body.error.details ? { details: expect.anything() } : {}) } });
    if (details) expect(res.body.error.details).toMatchObject(details);
    if (codeName === 'Internal') {
      expect(res.body.error.message).toBe('internal error; the request id identifies it in the logs');
      expect(JSON.stringify(res.body)).not.toContain('/var/task');
    }
  });

  it('a wrong upload leaves the version pending; the blob is recorded as rejected, never verified, and not deleted', async () => {
    s3.reset();
    s3.on(GetObjectCommand).callsFake(async () => ({ Body: Readable.from([Buffer.from('wrong')]) }));
    expect((await call('POST', '/v1/assets/err/a/-/versions/1.2.0/commit')).status).toBe(422);
    expect((await call('GET', '/v1/assets/err/a/-/versions/1.2.0')).body.status).toBe('pending');
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
    const { ddb } = await import('../../functions/adapters/dynamo.ts');
    // Recorded on the upload's own object (`<hex>/<nonce>`), not on the digest: the digest stays free for others.
    const id = (await svc.fileKey('err/a', '1.2.0', 'n.bin')).slice('blobs/sha256/'.length);
    expect(id).toMatch(new RegExp(`^${sha('other')}/[A-Za-z0-9_-]{22}$`));
    const blob = await ddb.send(new GetCommand({ TableName: svc.dynamo.tables.blobs, Key: { sha256: id } }));
    expect(blob.Item).toEqual({ sha256: id, rejectedAt: expect.any(String), rejectedReason: `stored bytes hash to ${sha('wrong')}` });
    const digest = await ddb.send(new GetCommand({ TableName: svc.dynamo.tables.blobs, Key: { sha256: sha('other') } }));
    expect(digest.Item).toBeUndefined();
    // Not present for anyone else: a new version declaring these bytes must upload them.
    const other = await call('POST', '/v1/assets/err/a/-/versions/1.2.0/files', { body: { files: [{ path: 'again.bin', size: 5, sha256: sha('other') }] } });
    expect(other.body.files.find((f: { path: string }) => f.path === 'again.bin').upload).toBeDefined();
  });

  const cursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
  it.each([
    ['a cursor of no table', '/v1/assets?cursor=eyJmb28iOjF9'],
    ['a cursor of a listing by name, used by update', `/v1/assets?sort=updated&cursor=${cursor({ listPk: 'all', name: 'err/a' })}`],
    ['a cursor outside the prefix', `/v1/assets?prefix=zz&cursor=${cursor({ listPk: 'all', name: 'err/a' })}`],
    ['a cursor of another partition', `/v1/assets?cursor=${cursor({ listPk: 'other', name: 'err/a' })}`],
    ['a cursor with a number', `/v1/assets?cursor=${cursor({ listPk: 'all', name: 1 })}`],
    ['versions: a cursor of no table', '/v1/assets/err/a/-/versions?cursor=eyJmb28iOjF9'],
    ['versions: a cursor of another asset', `/v1/assets/err/a/-/versions?cursor=${cursor({ asset: 'other', vkey: 'x' })}`],
    ['versions: a cursor of the listing, used by paramsHash', `/v1/assets/err/a/-/versions?paramsHash=${VERIFIED}&cursor=${cursor({ asset: 'err/a', vkey: 'x' })}`],
    ['versions: a cursor with an extra attribute', `/v1/assets/err/a/-/versions?cursor=${cursor({ asset: 'err/a', vkey: 'x', more: 'y' })}`],
    ['aliases: a cursor of another asset', `/v1/assets/err/a/-/aliases?cursor=${cursor({ asset: 'other', alias: 'x' })}`],
    ['hooks: a cursor of no table', '/v1/hooks?cursor=eyJmb28iOiJ4In0'],
    ['deliveries: a cursor of another hook', `/v1/hooks/${HOOK}/deliveries?cursor=${cursor({ hookId: 'b'.repeat(32), sk: 'x' })}`],
    ['a path that is not valid percent-encoding', '/v1/assets/%ZZ'],
    ['a prefix longer than any name', `/v1/assets?prefix=${'a'.repeat(2000)}`],
  ])('ValidationError, not a 500: %s', async (_what, path) => {
    const res = await call('GET', path);
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 400, code: 'ValidationError' });
  });

  it('the cursors it hands out still page, and an empty limit is the default', async () => {
    const first = await call('GET', '/v1/assets/err/a/-/versions?limit=1');
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call('GET', `/v1/assets/err/a/-/versions?limit=1&cursor=${first.body.nextCursor}`);
    expect(second.status).toBe(200);
    expect(second.body.items[0].version).not.toBe(first.body.items[0].version);
    const hash = first.body.items[0].paramsHash;
    const byHash = await call('GET', `/v1/assets/err/a/-/versions?limit=1&paramsHash=${hash}`);
    expect(byHash.body.nextCursor).toEqual(expect.any(String));
    expect((await call('GET', `/v1/assets/err/a/-/versions?limit=1&paramsHash=${hash}&cursor=${byHash.body.nextCursor}`)).status).toBe(200);
    await call('POST', '/v1/assets', { body: { name: 'err/z', type: 'model' } });
    for (const sort of ['name', 'updated']) {
      const page = await call('GET', `/v1/assets?limit=1&sort=${sort}&prefix=err/`);
      expect(page.body.nextCursor).toEqual(expect.any(String));
      expect((await call('GET', `/v1/assets?limit=1&sort=${sort}&prefix=err/&cursor=${page.body.nextCursor}`)).status).toBe(200);
    }
    const all = await call('GET', '/v1/assets?limit=&prefix=err/');
    expect(all.status).toBe(200);
    expect(all.body.items.map((a: { name: string }) => a.name)).toContain('err/a');
  });

  const cancelled = (...codes: string[]) =>
    new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: codes.map((Code) => ({ Code, ...(Code === 'ValidationError' ? { Message: 'Item size has exceeded the maximum allowed size' } : {}) })),
    });
  it.each([
    ['a reason DynamoDB calls invalid is a 400 with its message', ['None', 'ValidationError'], 400, 'ValidationError'],
    ['a reason no retry cures is a 500', ['None', 'ItemCollectionSizeLimitExceeded'], 500, 'Internal'],
  ])('creating a version, %s (not retried into a 429)', async (_what, codes, status, code) => {
    await call('POST', '/v1/assets', { body: { name: 'err/tx', type: 'model' } });
    failNextTransaction = cancelled(...codes);
    const res = await call('POST', '/v1/assets/err/tx/-/versions', { body: { bump: 'patch', files: [{ path: 'm.bin', size: 1, sha256: VERIFIED }] } });
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status, code });
    if (code === 'ValidationError') expect(res.body.error.message).toContain('Item size has exceeded');
  });

  it('moving an alias, a reason no retry cures is a 500', async () => {
    failNextTransaction = cancelled('None', 'ItemCollectionSizeLimitExceeded', 'None');
    const res = await call('PUT', '/v1/assets/err/a/-/aliases/staging', { body: { version: '1.0.0' } });
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 500, code: 'Internal' });
  });

  it('a response that succeeds carries x-request-id too', async () => {
    const res = await svc.call('GET', '/v1/health', { token: null, requestId: 'health-1' });
    expect(res).toEqual({ status: 200, headers: { 'content-type': 'application/json', 'x-request-id': 'health-1' }, body: { status: 'ok' } });
  });
});
