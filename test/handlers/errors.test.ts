/**
 * Every error code of SPEC §3.2 through the exported group handlers (IAM auth with grants, DynamoDB Local,
 * S3 mocked): status, headers and the `{ error: { code, message, requestId, details? } }` body together.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ThrottlingException } from '@aws-sdk/client-dynamodb';
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

const as = (arn: string | undefined, opts: EventOptions = {}): EventOptions => ({ token: null, ...(arn ? { authorizer: { iam: { userArn: arn } } } : {}), ...opts });
const call = (method: string, path: string, opts: EventOptions = {}) => svc.call(method, path, as(ADMIN, opts));
const sha = (b: string) => createHash('sha256').update(b).digest('hex');
const VERIFIED = 'a'.repeat(64);

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
    (next) => async (args) => {
      const err = failNext;
      failNext = undefined;
      if (err) throw err;
      return next(args);
    },
    { step: 'initialize', name: 'injectFailure' },
  );
  const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
  await ddb.send(new PutCommand({ TableName: svc.dynamo.tables.blobs, Item: { sha256: VERIFIED, size: 1, verifiedAt: 'now' } }));
  const ready = [{ path: 'm.bin', size: 1, sha256: VERIFIED }];
  await call('POST', '/v1/assets', { body: { name: 'err/a', type: 'model' } });
  await call('POST', '/v1/assets/err/a/-/versions', { body: { version: '1.0.0', files: ready } });
  await call('POST', '/v1/assets/err/a/-/versions/1.0.0/publish');
  await call('PUT', '/v1/assets/err/a/-/aliases/prod', { body: { version: '1.0.0' } });
  await call('POST', '/v1/assets/err/a/-/versions', { body: { version: '1.1.0', files: [{ path: 'm.bin', size: 5, sha256: sha('right') }] } });
  await call('POST', '/v1/assets/err/a/-/versions', { body: { version: '1.2.0', files: [{ path: 'n.bin', size: 5, sha256: sha('other') }] } });
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
    const blob = await ddb.send(new GetCommand({ TableName: svc.dynamo.tables.blobs, Key: { sha256: sha('other') } }));
    expect(blob.Item).toEqual({ sha256: sha('other'), rejectedAt: expect.any(String), rejectedReason: `stored bytes hash to ${sha('wrong')}` });
    // Not present for anyone else: a new version declaring these bytes must upload them.
    const other = await call('POST', '/v1/assets/err/a/-/versions/1.2.0/files', { body: { files: [{ path: 'again.bin', size: 5, sha256: sha('other') }] } });
    expect(other.body.files.find((f: { path: string }) => f.path === 'again.bin').upload).toBeDefined();
  });

  it('a response that succeeds carries x-request-id too', async () => {
    const res = await svc.call('GET', '/v1/health', { token: null, requestId: 'health-1' });
    expect(res).toEqual({ status: 200, headers: { 'content-type': 'application/json', 'x-request-id': 'health-1' }, body: { status: 'ok' } });
  });
});
