/**
 * Run outputs (R-OUT) through the exported group handlers on DynamoDB Local (S3 mocked): a three-step flow
 * passing outputs, `runs/latest`, write-once, promotion without re-upload, expiry and the collector, and
 * the DynamoDB requests each read costs.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../contract/env.ts';
import { parseBlobKey } from '../../contract/keys.ts';
import { startService, type Service } from '../fixtures/service.ts';

const s3 = mockClient(S3Client);
let svc: Service;

beforeAll(async () => {
  svc = await startService({ [ENV.gcGraceHours]: '1' });
});
afterAll(async () => svc?.stop());
afterEach(() => s3.reset());

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
/** The bucket holds these bytes for HEAD and GET, under every upload key of their digest (uploads are not the point here). */
function bucketHolds(...objects: Buffer[]): void {
  const byDigest = new Map(objects.map((b) => [sha(b), b]));
  const byKey = { get: (key: string) => byDigest.get(parseBlobKey(key)?.sha256 ?? '') };
  s3.on(HeadObjectCommand).callsFake(async (input: { Key: string }) => {
    const b = byKey.get(input.Key);
    if (!b) throw Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    return { ContentLength: b.length, Metadata: {} };
  });
  s3.on(GetObjectCommand).callsFake(async (input: { Key: string }) => {
    const b = byKey.get(input.Key);
    if (!b) throw new NoSuchKey({ message: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    return { Body: Readable.from([b]) };
  });
}

const out = (flow: string, run: string, name = '') => `/v1/flows/${flow}/runs/${run}/outputs${name ? `/${name}` : ''}`;
const declare = (bytes: Buffer, path = 'frame.parquet') => [{ path, size: bytes.length, sha256: sha(bytes) }];

/** One step: reads its input output (when given), writes and commits its own. */
async function step(flow: string, run: string, name: string, bytes: Buffer, input?: string): Promise<void> {
  if (input) {
    const read = await svc.call('GET', out(flow, run, input));
    expect(read.status).toBe(200);
    expect(read.body.files[0].url).toMatch(/^https?:\/\//);
  }
  const put = await svc.call('PUT', out(flow, run, name), { body: { files: declare(bytes), metadata: { step: name } } });
  expect(put.status).toBe(201);
  expect(put.headers.location).toBe(out(flow, run, name));
  expect(put.body).toMatchObject({ flow, run, name, status: 'pending', ttlDays: 7, metadata: { step: name } });
  expect(put.body.files[0].upload).toMatchObject({ method: 'PUT' });
  bucketHolds(bytes);
  const commit = await svc.call('POST', `${out(flow, run, name)}/commit`);
  expect(commit.status).toBe(200);
  expect(commit.body.status).toBe('ready');
}

describe('run outputs through the handlers', () => {
  const one = Buffer.from('step one frame');
  const two = Buffer.from('step two frame');
  const three = Buffer.from('step three frame');

  it('passes outputs along a flow of three steps', async () => {
    await step('train', 'r1', 'raw', one);
    await step('train', 'r1', 'features', two, 'raw');
    await step('train', 'r1', 'scores', three, 'features');
    const list = await svc.call('GET', out('train', 'r1'));
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ flow: 'train', run: 'r1' });
    expect(list.body.items.map((o: { name: string; status: string }) => [o.name, o.status])).toEqual([
      ['features', 'ready'],
      ['raw', 'ready'],
      ['scores', 'ready'],
    ]);
    expect(list.body.items[0].files[0].url).toBeUndefined();
  });

  it('reads a pending output as not ready, and refuses commit before the bytes arrive', async () => {
    const bytes = Buffer.from('never uploaded');
    expect((await svc.call('PUT', out('train', 'r1', 'late'), { body: { files: declare(bytes) } })).status).toBe(201);
    bucketHolds();
    expect((await svc.call('GET', out('train', 'r1', 'late'))).body.error.code).toBe('VersionNotReady');
    const commit = await svc.call('POST', `${out('train', 'r1', 'late')}/commit`);
    expect(commit.status).toBe(409);
    expect(commit.body.error).toMatchObject({ code: 'UploadIncomplete', details: { missing: [{ path: 'frame.parquet', sha256: sha(bytes) }] } });
  });

  it('writes an output once per run: the same request again is 200, another is 409', async () => {
    const body = { files: declare(one), ttlDays: 3 };
    const first = await svc.call('PUT', out('train', 'r2', 'once'), { body });
    // The blob is verified from step one: present, nothing to upload, ready at once.
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'ready', ttlDays: 3, files: [{ state: 'present' }] });
    const again = await svc.call('PUT', out('train', 'r2', 'once'), { body });
    expect(again.status).toBe(200);
    expect(again.body.createdAt).toBe(first.body.createdAt);
    const other = await svc.call('PUT', out('train', 'r2', 'once'), { body: { ...body, ttlDays: 4 } });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('AlreadyExists');
  });

  it('validates names and fields at the edge', async () => {
    const cases: [string, unknown, number][] = [
      [out('Train', 'r1', 'x'), { files: declare(one) }, 400],
      [out('train', 'latest', 'x'), { files: declare(one) }, 400],
      [out('train', 'r1', 'a..b'), { files: declare(one) }, 400],
      [out('train', 'r1', 'x'), { files: declare(one), ttlDays: 91 }, 400],
      [out('train', 'r1', 'x'), { files: declare(one), ttlDays: 0 }, 400],
      [out('train', 'r1', 'x'), { files: [] }, 400],
      [out('train', 'r1', 'x'), { files: declare(one), metadata: { big: 'x'.repeat(17 * 1024) } }, 413],
      [out('train', 'r1', 'x'), { files: declare(one), extra: 1 }, 400],
    ];
    for (const [path, body, status] of cases) {
      const res = await svc.call('PUT', path, { body });
      expect([path, res.status]).toEqual([path, status]);
    }
    expect((await svc.call('GET', out('train', 'r1', 'missing'))).status).toBe(404);
    expect((await svc.call('GET', out('train', 'r1', 'x'), {})).status).toBe(404);
    expect((await svc.call('GET', `${out('train', 'r1')}?cursor=garbage`)).status).toBe(400);
  });

  it('answers runs/latest with the newest run, in one DynamoDB request', async () => {
    await svc.call('PUT', out('train', 'r3', 'newest'), { body: { files: declare(two) } });
    svc.counts.clear();
    const list = await svc.call('GET', out('train', 'latest'));
    expect(Object.fromEntries(svc.counts)).toEqual({ QueryCommand: 2 }); // latest run: 1 Query; its outputs: 1 Query
    expect(list.body.run).toBe('r3');
    expect(list.body.items.map((o: { name: string }) => o.name)).toEqual(['newest']);
    svc.counts.clear();
    const read = await svc.call('GET', out('train', 'latest', 'newest'));
    expect(read.status).toBe(200);
    expect(Object.fromEntries(svc.counts)).toEqual({ QueryCommand: 1, GetItemCommand: 1 });
    expect((await svc.call('GET', out('nothing', 'latest'))).status).toBe(404);
  });

  it('promotes an output into a version whose bytes are not uploaded again', async () => {
    await svc.call('POST', '/v1/assets', { body: { name: 'team/features', type: 'dataset' } });
    const res = await svc.call('POST', `${out('train', 'r1', 'features')}/promote`, {
      body: { asset: 'team/features', description: 'from the run' },
      headers: { 'idempotency-key': 'promote-1' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      asset: 'team/features',
      version: '1.0.0',
      status: 'ready',
      description: 'from the run',
      source: { flow: 'train', run: 'r1', name: 'features' },
      files: [{ path: 'frame.parquet', size: two.length, sha256: sha(two) }],
    });
    expect(res.body.files[0].upload).toBeUndefined();
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
    const again = await svc.call('POST', `${out('train', 'r1', 'features')}/promote`, {
      body: { asset: 'team/features', description: 'from the run' },
      headers: { 'idempotency-key': 'promote-1' },
    });
    expect(again.body.version).toBe('1.0.0');
    const version = await svc.call('GET', '/v1/assets/team/features/-/versions/1.0.0');
    expect(version.body.source).toEqual({ flow: 'train', run: 'r1', name: 'features' });
    expect((await svc.call('POST', `${out('train', 'r1', 'late')}/promote`, { body: { asset: 'team/features' } })).body.error.code).toBe('VersionNotReady');
    expect((await svc.call('POST', `${out('train', 'r1', 'features')}/promote`, { body: { asset: 'team/none' } })).status).toBe(404);
  });

  it('reads an output past its TTL as gone, and the collector takes its blob only then', async () => {
    const lonely = Buffer.from('only this output holds it');
    const put = await svc.call('PUT', out('etl', 'r1', 'tmp'), { body: { files: declare(lonely), ttlDays: 1 } });
    expect(put.status).toBe(201);
    const key = new URL(put.body.files[0].upload.url).pathname.slice(1);
    bucketHolds(lonely);
    expect((await svc.call('POST', `${out('etl', 'r1', 'tmp')}/commit`)).status).toBe(200);

    const { collect } = await import('../../functions/jobs/gc.ts');
    const old = new Date(Date.now() - 48 * 3600_000);
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: key, LastModified: old }], IsTruncated: false });
    s3.on(DeleteObjectsCommand).resolves({});
    expect(await collect({ graceHours: 1, settleMs: 10 })).toMatchObject({ scanned: 1, candidates: 0, deleted: 0 });

    // Past expiresAt, while DynamoDB's lazy TTL has not deleted the item yet.
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    const { ddb } = await import('../../functions/adapters/dynamo.ts');
    await ddb.send(
      new UpdateCommand({
        TableName: svc.dynamo.tables.outputs,
        Key: { runKey: 'etl/r1', name: 'tmp' },
        UpdateExpression: 'SET expiresAt = :past',
        ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 1 },
      }),
    );
    expect((await svc.call('GET', out('etl', 'r1', 'tmp'))).status).toBe(404);
    expect((await svc.call('GET', out('etl', 'r1'))).body.items).toEqual([]);
    expect((await svc.call('POST', `${out('etl', 'r1', 'tmp')}/promote`, { body: { asset: 'team/features' } })).status).toBe(404);
    expect(await collect({ graceHours: 1, settleMs: 10 })).toMatchObject({ scanned: 1, candidates: 1, deleted: 1 });
    const deleted = s3.commandCalls(DeleteObjectsCommand).flatMap((c) => (c.args[0].input.Delete?.Objects ?? []).map((o) => o.Key));
    expect(deleted).toEqual([key]);

    // The name is free again once its output has expired.
    expect((await svc.call('PUT', out('etl', 'r1', 'tmp'), { body: { files: declare(one) } })).status).toBe(201);
  });
});
