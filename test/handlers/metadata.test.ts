/**
 * Metadata (R-META), lists, ETags, Idempotency-Key, new formats and deletes, through the handlers on
 * DynamoDB Local (S3 mocked).
 */
import { CreateMultipartUploadCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paramsHash } from '../../functions/domain/paramsHash.ts';
import { startService, type Service } from '../fixtures/service.ts';

const s3 = mockClient(S3Client);
let svc: Service;
const VERIFIED = 'a'.repeat(64);
const PENDING = 'b'.repeat(64);
const ready = (path = 'm.pkl') => [{ path, size: 1, sha256: VERIFIED }];

beforeAll(async () => {
  svc = await startService();
  s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u' });
  const { ddb } = await import('../../functions/adapters/dynamo.ts');
  const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
  await ddb.send(new PutCommand({ TableName: svc.dynamo.tables.blobs, Item: { sha256: VERIFIED, size: 1, verifiedAt: 'now' } }));
  for (const [name, type, tags, description] of [
    ['meta/data', 'dataset', ['train'], 'Customer transactions'],
    ['meta/model', 'model', ['prod', 'xgb'], 'Fraud model'],
    ['meta/other', 'other', [], 'Misc'],
    ['vision/resnet', 'model', ['prod'], 'Image classifier'],
  ] as const) {
    await svc.call('POST', '/v1/assets', { body: { name, type, tags, description } });
  }
});
afterAll(async () => svc?.stop());

describe('records and paramsHash', () => {
  it('resolves records to exact specs and hashes params with their dependencies', async () => {
    const data = await svc.call('POST', '/v1/assets/meta/data/-/versions', { body: { version: '2.1', files: ready('d.parquet'), params: { rows: 1000 } } });
    expect(data.body.paramsHash).toBe(paramsHash({ rows: 1000 }));
    const res = await svc.call('POST', '/v1/assets/meta/model/-/versions', {
      body: {
        files: ready(),
        records: ['meta/data:^2'],
        params: { depth: 6, eta: 0.1 },
        hyperparameters: { depth: 6 },
        config: { runtime: 'python3.12' },
        metrics: { auc: 0.93 },
        description: '# XGB',
        tags: ['candidate'],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      version: '1.0.0',
      records: ['meta/data:2.1.0'],
      paramsHash: paramsHash({ eta: 0.1, depth: 6 }, [{ spec: 'meta/data:2.1.0', paramsHash: data.body.paramsHash }]),
      hyperparameters: { depth: 6 },
      config: { runtime: 'python3.12' },
      metrics: { auc: 0.93 },
      tags: ['candidate'],
    });
  });

  it('a version declared without params has no paramsHash (null), one declared with {} has the hash of {}', async () => {
    await svc.call('POST', '/v1/assets', { body: { name: 'np/none', type: 'other' } });
    const versions = '/v1/assets/np/none/-/versions';
    const none = await svc.call('POST', versions, { body: { files: ready('n.bin') } });
    expect(none).toMatchObject({ status: 201, body: { version: '1.0.0', paramsHash: null } });
    expect(none.body.params).toBeUndefined();
    const empty = await svc.call('POST', versions, { body: { files: ready('e.bin'), params: {} } });
    expect(empty).toMatchObject({ status: 201, body: { version: '1.1.0', paramsHash: paramsHash({}), params: {} } });
    const found = await svc.call('GET', `${versions}?paramsHash=${paramsHash({})}`);
    expect(found.body.items.map((v: { version: string }) => v.version)).toEqual(['1.1.0']);
    // A record without params contributes a null paramsHash to its dependant's hash.
    const dependant = await svc.call('POST', versions, { body: { files: ready('m.bin'), records: ['np/none:1.0.0'], params: {} } });
    expect(dependant.body.paramsHash).toBe(paramsHash({}, [{ spec: 'np/none:1.0.0', paramsHash: null }]));
  });

  it('an unresolvable record is 400', async () => {
    const res = await svc.call('POST', '/v1/assets/meta/model/-/versions', { body: { files: ready(), records: ['meta/data:^9'] } });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'ValidationError', details: { record: 'meta/data:^9' } } } });
  });

  it('GET versions?paramsHash= finds the version by its hash', async () => {
    const hash = paramsHash({ rows: 1000 });
    const res = await svc.call('GET', `/v1/assets/meta/data/-/versions?paramsHash=${hash}`);
    expect(res.body.items.map((v: { version: string }) => v.version)).toEqual(['2.1.0']);
    const none = await svc.call('GET', `/v1/assets/meta/data/-/versions?paramsHash=${'0'.repeat(64)}`);
    expect(none.body).toEqual({ items: [] });
  });

  it('refuses a fourth format', async () => {
    const files = ['a.pkl', 'b.onnx', 'c.pmml', 'd.rda'].map((path) => ({ path, size: 1, sha256: VERIFIED }));
    const res = await svc.call('POST', '/v1/assets/meta/model/-/versions', { body: { files } });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'ValidationError', details: { formats: ['onnx', 'pkl', 'pmml', 'rda'] } } } });
  });

  it('refuses a version whose item would not fit in DynamoDB (413)', async () => {
    const files = Array.from({ length: 1000 }, (_, i) => ({ path: `${'d'.repeat(400)}/f${i}.bin`, size: 1, sha256: VERIFIED }));
    const res = await svc.call('POST', '/v1/assets/meta/other/-/versions', { body: { files } });
    expect(res).toMatchObject({ status: 413, body: { error: { code: 'PayloadTooLarge', details: { limit: 350 * 1024 } } } });
  });
});

describe('lists', () => {
  it('pages versions newest first with an opaque cursor', async () => {
    for (const version of ['1.0.0', '1.1.0', '1.2.0', '1.10.0']) await svc.call('POST', '/v1/assets/meta/other/-/versions', { body: { version, files: ready() } });
    await svc.call('DELETE', '/v1/assets/meta/other/-/versions/1.1.0');
    const first = await svc.call('GET', '/v1/assets/meta/other/-/versions?limit=2');
    expect(first.body.items.map((v: { version: string }) => v.version)).toEqual(['1.10.0', '1.2.0']);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await svc.call('GET', `/v1/assets/meta/other/-/versions?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((v: { version: string }) => v.version)).toEqual(['1.0.0']);
    const all = await svc.call('GET', '/v1/assets/meta/other/-/versions?includeDeleted=true');
    expect(all.body.items.map((v: { version: string; status: string }) => `${v.version}:${v.status}`)).toEqual(['1.10.0:ready', '1.2.0:ready', '1.1.0:deleted', '1.0.0:ready']);
    const bad = await svc.call('GET', '/v1/assets/meta/other/-/versions?cursor=garbage');
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'ValidationError' } } });
  });

  it.each([
    ['?prefix=meta/', ['meta/data', 'meta/model', 'meta/other']],
    ['?type=model', ['meta/model', 'vision/resnet']],
    ['?tag=prod', ['meta/model', 'vision/resnet']],
    ['?q=FRAUD', ['meta/model']],
    ['?sort=name&order=desc&prefix=meta/', ['meta/other', 'meta/model', 'meta/data']],
  ])('lists assets %s', async (query, names) => {
    const res = await svc.call('GET', `/v1/assets${query}`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((a: { name: string }) => a.name)).toEqual(names);
  });

  it('sorts assets by last update', async () => {
    await svc.call('PATCH', '/v1/assets/meta/data', { body: { description: 'touched' } });
    const res = await svc.call('GET', '/v1/assets?sort=updated&order=desc&limit=1');
    expect(res.body.items.map((a: { name: string }) => a.name)).toEqual(['meta/data']);
    expect(res.body.nextCursor).toEqual(expect.any(String));
  });
});

describe('ETags and If-Match', () => {
  it('PATCH honours If-Match on assets and versions', async () => {
    const asset = await svc.call('GET', '/v1/assets/meta/other');
    const ok = await svc.call('PATCH', '/v1/assets/meta/other', { body: { tags: ['x'] }, headers: { 'if-match': asset.headers.etag! } });
    expect(ok).toMatchObject({ status: 200, body: { tags: ['x'] } });
    expect(ok.headers.etag).not.toBe(asset.headers.etag);
    const stale = await svc.call('PATCH', '/v1/assets/meta/other', { body: { tags: ['y'] }, headers: { 'if-match': asset.headers.etag! } });
    expect(stale).toMatchObject({ status: 412, body: { error: { code: 'PreconditionFailed' } } });

    const v = await svc.call('GET', '/v1/assets/meta/other/-/versions/1.2.0');
    const edited = await svc.call('PATCH', '/v1/assets/meta/other/-/versions/1.2.0', { body: { metrics: { f1: 0.5 } }, headers: { 'if-match': v.headers.etag! } });
    expect(edited).toMatchObject({ status: 200, body: { metrics: { f1: 0.5 } } });
    const again = await svc.call('PATCH', '/v1/assets/meta/other/-/versions/1.2.0', { body: { metrics: { f1: 0.6 } }, headers: { 'if-match': v.headers.etag! } });
    expect(again.status).toBe(412);
  });
});

describe('Idempotency-Key', () => {
  it('replays the first response for the same body and refuses another body', async () => {
    const body = { files: ready(), bump: 'patch' };
    const headers = { 'idempotency-key': 'push-42' };
    const first = await svc.call('POST', '/v1/assets/meta/data/-/versions', { body, headers });
    const replay = await svc.call('POST', '/v1/assets/meta/data/-/versions', { body, headers });
    expect(first.status).toBe(201);
    expect(replay).toMatchObject({ status: 201, body: first.body });
    const other = await svc.call('POST', '/v1/assets/meta/data/-/versions', { body: { ...body, bump: 'minor' }, headers });
    expect(other).toMatchObject({ status: 409, body: { error: { code: 'AlreadyExists', details: { key: 'push-42' } } } });
    const versions = await svc.call('GET', '/v1/assets/meta/data/-/versions');
    expect(versions.body.items.map((v: { version: string }) => v.version)).toEqual(['2.1.1', '2.1.0']);
  });
});

describe('new formats and deletes', () => {
  it('adds a format to a ready version; its file is served once committed', async () => {
    const res = await svc.call('POST', '/v1/assets/meta/other/-/versions/1.0.0/files', { body: { files: [{ path: 'm.onnx', size: 2, sha256: PENDING }] } });
    expect(res.status).toBe(200);
    expect(res.body.formats).toEqual(['onnx', 'pkl']);
    expect(res.body.files.find((f: { path: string }) => f.path === 'm.onnx').upload.method).toBe('PUT');
    const resolved = await svc.call('GET', '/v1/resolve/meta/other:1.0.0');
    expect(resolved.body.files.map((f: { path: string }) => f.path)).toEqual(['m.pkl']);
    const publish = await svc.call('POST', '/v1/assets/meta/other/-/versions/1.0.0/publish');
    expect(publish).toMatchObject({ status: 409, body: { error: { code: 'VersionNotReady', details: { waiting: [{ path: 'm.onnx', format: 'onnx' }] } } } });
  });

  it('withdraws a format never uploaded, so the version publishes; a pending version refuses', async () => {
    const other = await svc.call('DELETE', '/v1/assets/meta/other/-/versions/1.0.0/files?format=pkl');
    expect(other.body.files.map((f: { path: string }) => f.path).sort()).toEqual(['m.onnx', 'm.pkl']);
    const bad = await svc.call('DELETE', '/v1/assets/meta/other/-/versions/1.0.0/files?format=Bad%20Format');
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'ValidationError' } } });
    const res = await svc.call('DELETE', '/v1/assets/meta/other/-/versions/1.0.0/files?format=onnx');
    expect(res.status).toBe(200);
    expect(res.body.files.map((f: { path: string }) => f.path)).toEqual(['m.pkl']);
    expect(res.body.formats).toEqual(['pkl']);
    const again = await svc.call('DELETE', '/v1/assets/meta/other/-/versions/1.0.0/files');
    expect(again.body.files.map((f: { path: string }) => f.path)).toEqual(['m.pkl']);
    const publish = await svc.call('POST', '/v1/assets/meta/other/-/versions/1.0.0/publish');
    expect(publish).toMatchObject({ status: 200, body: { status: 'published' } });
    const locked = await svc.call('DELETE', '/v1/assets/meta/other/-/versions/1.0.0/files');
    expect(locked).toMatchObject({ status: 409, body: { error: { code: 'VersionPublished' } } });
    const pending = await svc.call('POST', '/v1/assets/meta/other/-/versions', { body: { files: [{ path: 'p.bin', size: 2, sha256: PENDING }], version: '9.0.0' } });
    expect(pending.body.status).toBe('pending');
    const refused = await svc.call('DELETE', '/v1/assets/meta/other/-/versions/9.0.0/files');
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'VersionNotReady' } } });
    expect((await svc.call('DELETE', '/v1/assets/meta/other/-/versions/9.0.0')).status).toBe(200);
  });

  it('deletes a published version only as an admin with force and a reason, and keeps the reason', async () => {
    await svc.call('POST', '/v1/assets/meta/other/-/versions/1.2.0/publish');
    const plain = await svc.call('DELETE', '/v1/assets/meta/other/-/versions/1.2.0');
    expect(plain).toMatchObject({ status: 409, body: { error: { code: 'VersionPublished' } } });
    const noReason = await svc.call('DELETE', '/v1/assets/meta/other/-/versions/1.2.0?force=true&reason=%20');
    expect(noReason).toMatchObject({ status: 400, body: { error: { code: 'ValidationError' } } });
    const addToPublished = await svc.call('POST', '/v1/assets/meta/other/-/versions/1.2.0/files', { body: { files: [{ path: 'x.onnx', size: 1, sha256: VERIFIED }] } });
    expect(addToPublished).toMatchObject({ status: 409, body: { error: { code: 'VersionPublished' } } });
    const forced = await svc.call('DELETE', '/v1/assets/meta/other/-/versions/1.2.0?force=true&reason=leaked%20data');
    expect(forced).toMatchObject({ status: 200, body: { status: 'deleted', deleteReason: 'leaked data', deletedBy: 'local-admin' } });
    expect((await svc.call('GET', '/v1/assets/meta/other')).body.liveVersions).toBe(2);
  });

  it('deletes an asset with its versions and aliases (force and reason when it has live versions)', async () => {
    await svc.call('PUT', '/v1/assets/meta/other/-/aliases/prod', { body: { version: '1.10.0' } });
    expect((await svc.call('DELETE', '/v1/assets/meta/other')).status).toBe(400);
    expect((await svc.call('DELETE', '/v1/assets/meta/other?force=true&reason=cleanup')).status).toBe(204);
    expect((await svc.call('GET', '/v1/assets/meta/other')).status).toBe(404);
    expect((await svc.call('GET', '/v1/resolve/meta/other:prod')).status).toBe(404);
    const recreated = await svc.call('POST', '/v1/assets', { body: { name: 'meta/other', type: 'other' } });
    expect(recreated.body.liveVersions).toBe(0);
  });
});
