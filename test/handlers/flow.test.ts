/**
 * The version lifecycle through the exported group handlers on DynamoDB Local (S3 mocked): create asset →
 * create version → commit → publish → alias → resolve → download; each response asserted whole.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../fixtures/service.ts';

const s3 = mockClient(S3Client);
let svc: Service;

beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => svc?.stop());
afterEach(() => s3.reset());

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const storeBytes = (bytes: Buffer) => {
  s3.on(GetObjectCommand).callsFake(async () => ({ Body: Readable.from([bytes]) }));
  s3.on(HeadObjectCommand).resolves({ ContentLength: bytes.length, Metadata: {} });
};

describe('version lifecycle through the handlers', () => {
  const bytes = Buffer.from('model weights v1');
  const digest = sha(bytes);

  it('creates an asset', async () => {
    const res = await svc.call('POST', '/v1/assets', { body: { name: 'fraud/xgb', type: 'model', description: 'A model', tags: ['prod'] }, requestId: 'req-1' });
    expect(res).toMatchObject({
      status: 201,
      headers: { 'x-request-id': 'req-1', 'content-type': 'application/json', etag: '"1"', location: '/v1/assets/fraud/xgb' },
      body: { name: 'fraud/xgb', type: 'model', description: 'A model', tags: ['prod'], capPolicy: 'refuse', liveVersions: 0, aliases: [], createdBy: 'local-admin', etag: '"1"' },
    });
  });

  let uploadedPath = '';

  it('creates version 1.0.0 with a presigned PUT for its file', async () => {
    const res = await svc.call('POST', '/v1/assets/fraud/xgb/-/versions', {
      body: { files: [{ path: 'model.pkl', size: bytes.length, sha256: digest }], params: { depth: 6 } },
    });
    expect(res.status).toBe(201);
    expect(res.headers).toMatchObject({ location: '/v1/assets/fraud/xgb/-/versions/1.0.0', etag: '"1"' });
    expect(res.body).toMatchObject({ asset: 'fraud/xgb', version: '1.0.0', status: 'pending', formats: ['pkl'], size: bytes.length });
    const [file] = res.body.files;
    expect(file).toMatchObject({ path: 'model.pkl', size: bytes.length, sha256: digest, format: 'pkl', upload: { method: 'PUT' } });
    expect(file.upload.headers).toEqual({
      'content-length': String(bytes.length),
      'if-none-match': '*',
      'x-amz-checksum-sha256': Buffer.from(digest, 'hex').toString('base64'),
      'x-amz-meta-arca-version': 'fraud/xgb@1.0.0',
    });
    const url = new URL(file.upload.url);
    // The upload's own object: its digest, then a nonce no other upload of the digest shares.
    expect(url.host).toBe('arca-test.s3.us-east-1.amazonaws.com');
    expect(url.pathname).toMatch(new RegExp(`^/blobs/sha256/${digest}/[A-Za-z0-9_-]{22}$`));
    uploadedPath = url.pathname;
  });

  it('refuses to publish a pending version', async () => {
    const res = await svc.call('POST', '/v1/assets/fraud/xgb/-/versions/1.0.0/publish');
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'VersionNotReady', requestId: res.headers['x-request-id'] } } });
  });

  it('commit reports missing bytes as UploadIncomplete', async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
    const res = await svc.call('POST', '/v1/assets/fraud/xgb/-/versions/1.0.0/commit');
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'UploadIncomplete', details: { missing: [{ path: 'model.pkl', sha256: digest }] } });
  });

  it('commit verifies the bytes and makes the version ready', async () => {
    storeBytes(bytes);
    const res = await svc.call('POST', '/v1/assets/fraud/xgb/-/versions/1.0.0/commit');
    expect(res).toMatchObject({ status: 200, body: { version: '1.0.0', status: 'ready', files: [{ path: 'model.pkl' }] } });
    const again = await svc.call('POST', '/v1/assets/fraud/xgb/-/versions/1.0.0/commit');
    expect(again).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('a second version with the same bytes finds them present and is ready at once', async () => {
    const res = await svc.call('POST', '/v1/assets/fraud/xgb/-/versions', { body: { bump: 'patch', files: [{ path: 'model.pkl', size: bytes.length, sha256: digest }] } });
    expect(res).toMatchObject({ status: 201, body: { version: '1.0.1', status: 'ready', files: [{ path: 'model.pkl', state: 'present' }] } });
  });

  it('publishes, twice with the same record', async () => {
    const first = await svc.call('POST', '/v1/assets/fraud/xgb/-/versions/1.0.0/publish');
    expect(first).toMatchObject({ status: 200, body: { status: 'published', version: '1.0.0' } });
    const second = await svc.call('POST', '/v1/assets/fraud/xgb/-/versions/1.0.0/publish');
    expect(second.body).toEqual(first.body);
    // The stream consumer names the actor of an event from these.
    const { ddb } = await import('../../functions/adapters/dynamo.ts');
    const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
    const { versionKey } = await import('../../contract/keys.ts');
    const item = await ddb.send(new GetCommand({ TableName: svc.dynamo.tables.versions, Key: { asset: 'fraud/xgb', vkey: versionKey('1.0.0') } }));
    expect(item.Item).toMatchObject({ publishedBy: 'local-admin', updatedBy: 'local-admin', createdBy: 'local-admin' });
  });

  it('refuses edits of a published version', async () => {
    const res = await svc.call('PATCH', '/v1/assets/fraud/xgb/-/versions/1.0.0', { body: { description: 'changed' } });
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'VersionPublished' } } });
  });

  it('sets an alias and resolves through it', async () => {
    const set = await svc.call('PUT', '/v1/assets/fraud/xgb/-/aliases/production', { body: { version: '1.0' } });
    expect(set).toMatchObject({ status: 200, body: { alias: 'production', version: '1.0.0', updatedBy: 'local-admin' } });
    const res = await svc.call('GET', '/v1/resolve/fraud/xgb:production/model.pkl');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ asset: 'fraud/xgb', version: '1.0.0', status: 'published', aliases: ['production'] });
    expect(res.body.files).toHaveLength(1);
    expect(res.body.files[0]).toMatchObject({ path: 'model.pkl', sha256: digest, size: bytes.length, format: 'pkl' });
    expect(new URL(res.body.files[0].url).searchParams.get('X-Amz-Expires')).toBe('900');
  });

  it('resolves latest to the highest stable version', async () => {
    const res = await svc.call('GET', '/v1/resolve/fraud/xgb');
    expect(res).toMatchObject({ status: 200, body: { version: '1.0.1', status: 'ready', aliases: [] } });
  });

  it('redirects a download to a presigned URL', async () => {
    const res = await svc.call('GET', '/v1/assets/fraud/xgb/-/versions/1.0.0/files/model.pkl');
    expect(res.status).toBe(302);
    const url = new URL(res.headers.location ?? '');
    // The object whose bytes commit verified, named by the version's entry (no Blobs read on the way).
    expect([url.host, url.pathname]).toEqual(['arca-test.s3.us-east-1.amazonaws.com', uploadedPath]);
    expect(url.searchParams.get('response-content-disposition')).toBe('attachment; filename="model.pkl"');
  });

  it('refuses to delete an aliased version, listing the aliases', async () => {
    const res = await svc.call('DELETE', '/v1/assets/fraud/xgb/-/versions/1.0.0');
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'AliasInUse', details: { aliases: ['production'] } } } });
  });

  it('shows the asset with live count, latest and aliases', async () => {
    const res = await svc.call('GET', '/v1/assets/fraud/xgb');
    expect(res).toMatchObject({ status: 200, body: { name: 'fraud/xgb', liveVersions: 2, latest: '1.0.1', aliases: [{ alias: 'production', version: '1.0.0' }] } });
  });
});
