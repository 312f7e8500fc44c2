/**
 * Commit bounded in time (R-UPLOAD "whichever comes first"): a multipart file whose whole-object hash is
 * over ARCA_INLINE_VERIFY_MAX_BYTES is not hashed by the API. Commit completes the upload and answers 202
 * with the version pending; the ObjectCreated job hashes the blob and makes the version ready, or rejects
 * it, after which commit answers 422. Handlers on DynamoDB Local, S3 mocked, `s3-checksum` mode (AWS).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { S3Event } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../fixtures/service.ts';

const MIB = 1024 * 1024;
const s3 = mockClient(S3Client);
let svc: Service;

beforeAll(async () => {
  // Files over 5 MiB go multipart (one part each here); commit hashes nothing over 4 MiB itself.
  svc = await startService({ ARCA_VERIFY_MODE: 's3-checksum', ARCA_MULTIPART_THRESHOLD: String(5 * MIB), ARCA_INLINE_VERIFY_MAX_BYTES: String(4 * MIB) });
  await svc.call('POST', '/v1/assets', { body: { name: 'av/big', type: 'dataset' } });
});
afterAll(async () => svc?.stop());
afterEach(() => s3.reset());

const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const b64 = (h: string) => Buffer.from(h, 'hex').toString('base64');
const noSuchUpload = () => new S3ServiceException({ name: 'NoSuchUpload', $fault: 'client', $metadata: { httpStatusCode: 404 } });

/** A one-part multipart file and what S3 reports for it once completed. */
function bigFile(path: string, fill: number, declared?: string) {
  const bytes = Buffer.alloc(6 * MIB, fill);
  const sha256 = declared ?? hex(bytes);
  const part = hex(bytes);
  return {
    bytes,
    declaration: { path, size: bytes.length, sha256, parts: [part] },
    /** The upload's own object, learnt once the version is created (`learnKeys`). */
    key: '',
    listed: [{ PartNumber: 1, ETag: `"e${fill}"`, Size: bytes.length, ChecksumSHA256: b64(part) }],
    composite: `${createHash('sha256').update(Buffer.from(part, 'hex')).digest('base64')}-1`,
  };
}
type BigFile = ReturnType<typeof bigFile>;

async function learnKeys(version: string, ...files: BigFile[]): Promise<void> {
  for (const f of files) f.key = await svc.fileKey('av/big', version, f.declaration.path);
}

/** S3 as it is after CompleteMultipartUpload: the object exists, uploads are gone. */
function completed(files: BigFile[], version: string): void {
  s3.on(ListPartsCommand).rejects(noSuchUpload());
  for (const f of files) {
    s3.on(HeadObjectCommand, { Key: f.key }).resolves({ ContentLength: f.bytes.length, ChecksumSHA256: f.composite, Metadata: { 'arca-version': `av/big@${version}` } });
    s3.on(GetObjectCommand, { Key: f.key }).callsFake(async () => ({ Body: Readable.from([f.bytes]) }));
  }
}

const objectCreated = (...files: BigFile[]): S3Event =>
  ({ Records: files.map((f) => ({ s3: { bucket: { name: 'arca-test' }, object: { key: f.key, size: f.bytes.length } } })) }) as unknown as S3Event;

async function job(event: S3Event): Promise<void> {
  const { handler } = await import('../../functions/jobs/finalize.ts');
  await handler(event);
}

const statusOf = async (version: string) => (await svc.call('GET', `/v1/assets/av/big/-/versions/${version}`)).body.status;

describe('commit of a file too large to hash within the request', () => {
  const big = bigFile('train.bin', 1);
  const small = Buffer.from('small single put');
  let smallKey = '';

  it('completes the upload and answers 202, the version pending, without reading the object', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    const created = await svc.call('POST', '/v1/assets/av/big/-/versions', {
      body: { version: '1.0.0', files: [big.declaration, { path: 'readme.txt', size: small.length, sha256: hex(small) }] },
    });
    expect(created.status).toBe(201);
    await learnKeys('1.0.0', big);
    smallKey = await svc.fileKey('av/big', '1.0.0', 'readme.txt');
    s3.reset();
    s3.on(ListPartsCommand).resolves({ Parts: big.listed, IsTruncated: false });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    s3.on(HeadObjectCommand, { Key: big.key }).resolves({ ContentLength: big.bytes.length, ChecksumSHA256: big.composite, Metadata: {} });
    // The single PUT carries S3's verified full-object checksum: checked inline, no hashing either.
    s3.on(HeadObjectCommand, { Key: smallKey }).resolves({ ContentLength: small.length, ChecksumSHA256: b64(hex(small)), Metadata: {} });
    const res = await svc.call('POST', '/v1/assets/av/big/-/versions/1.0.0/commit');
    expect(res).toMatchObject({
      status: 202,
      body: {
        status: 'pending',
        files: expect.arrayContaining([
          expect.objectContaining({ path: 'train.bin', verification: 'in-progress' }),
          expect.not.objectContaining({ verification: expect.anything() }),
        ]),
      },
    });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(1);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(await statusOf('1.0.0')).toBe('pending');
  });

  it('a second commit while the job hashes answers 202 again, hashing nothing and completing nothing', async () => {
    completed([big], '1.0.0');
    s3.on(HeadObjectCommand, { Key: smallKey }).resolves({ ContentLength: small.length, ChecksumSHA256: b64(hex(small)), Metadata: {} });
    const res = await svc.call('POST', '/v1/assets/av/big/-/versions/1.0.0/commit');
    expect(res).toMatchObject({ status: 202, body: { status: 'pending' } });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    // The small file's verdict was recorded by the first commit: not checked again.
    expect(s3.commandCalls(HeadObjectCommand).map((c) => c.args[0].input.Key)).toEqual([big.key]);
  });

  it('the ObjectCreated job hashes the blob and makes the version ready; commit then answers 200', async () => {
    completed([big], '1.0.0');
    await job(objectCreated(big));
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
    expect(await statusOf('1.0.0')).toBe('ready');
    const res = await svc.call('POST', '/v1/assets/av/big/-/versions/1.0.0/commit');
    expect(res).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(res.body.files.every((f: { verification?: string }) => f.verification === undefined)).toBe(true);
  });

  it('bytes that hash to another digest: the job rejects the blob, the next commit answers 422 without hashing', async () => {
    // Declared under one digest, stored bytes hash to another (the parts themselves are the declared ones).
    const wrong = bigFile('wrong.bin', 2, 'e'.repeat(64));
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-2' });
    await svc.call('POST', '/v1/assets/av/big/-/versions', { body: { version: '2.0.0', files: [wrong.declaration] } });
    await learnKeys('2.0.0', wrong);
    s3.on(ListPartsCommand).resolves({ Parts: wrong.listed, IsTruncated: false });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    s3.on(HeadObjectCommand).resolves({ ContentLength: wrong.bytes.length, ChecksumSHA256: wrong.composite, Metadata: {} });
    expect((await svc.call('POST', '/v1/assets/av/big/-/versions/2.0.0/commit')).status).toBe(202);

    s3.reset();
    completed([wrong], '2.0.0');
    await job(objectCreated(wrong));
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
    expect(await statusOf('2.0.0')).toBe('pending');
    const { ddb } = await import('../../functions/adapters/dynamo.ts');
    // The verdict is on the upload's object, not on the digest: another upload of e…e is not blocked.
    const blob = await ddb.send(new GetCommand({ TableName: svc.dynamo.tables.blobs, Key: { sha256: wrong.key.slice('blobs/sha256/'.length) } }));
    expect(blob.Item).toMatchObject({ rejectedReason: `stored bytes hash to ${hex(wrong.bytes)}` });
    expect((await ddb.send(new GetCommand({ TableName: svc.dynamo.tables.blobs, Key: { sha256: 'e'.repeat(64) } }))).Item).toBeUndefined();

    s3.resetHistory();
    const res = await svc.call('POST', '/v1/assets/av/big/-/versions/2.0.0/commit');
    expect(res).toMatchObject({
      status: 422,
      body: { error: { code: 'ChecksumMismatch', details: { files: [{ path: 'wrong.bin', reason: `stored bytes hash to ${hex(wrong.bytes)}` }] } } },
    });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(await statusOf('2.0.0')).toBe('pending');
  });

  it('two large files hashed by two jobs at once: the version ends ready', async () => {
    const [a, b] = [bigFile('a.bin', 3), bigFile('b.bin', 4)];
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-3' });
    await svc.call('POST', '/v1/assets/av/big/-/versions', { body: { version: '3.0.0', files: [a.declaration, b.declaration] } });
    await learnKeys('3.0.0', a, b);
    s3.on(ListPartsCommand, { Key: a.key }).resolves({ Parts: a.listed, IsTruncated: false });
    s3.on(ListPartsCommand, { Key: b.key }).resolves({ Parts: b.listed, IsTruncated: false });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    s3.on(HeadObjectCommand).resolves({ ContentLength: a.bytes.length, ChecksumSHA256: a.composite, Metadata: {} });
    s3.on(HeadObjectCommand, { Key: b.key }).resolves({ ContentLength: b.bytes.length, ChecksumSHA256: b.composite, Metadata: {} });
    const res = await svc.call('POST', '/v1/assets/av/big/-/versions/3.0.0/commit');
    expect(res.status).toBe(202);
    expect(res.body.files.map((f: { verification?: string }) => f.verification)).toEqual(['in-progress', 'in-progress']);

    s3.reset();
    completed([a, b], '3.0.0');
    await Promise.all([job(objectCreated(a)), job(objectCreated(b))]);
    // Each job hashed its own blob only.
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key).sort()).toEqual([a.key, b.key].sort());
    expect(await statusOf('3.0.0')).toBe('ready');
  });
});

describe('a run output finalized by its blob arriving (no commit)', () => {
  it('the ObjectCreated job makes a declared output ready, as it does a version', async () => {
    const bytes = Buffer.from('a step output, uploaded by single PUT');
    const sha256 = hex(bytes);
    const declared = await svc.call('PUT', '/v1/flows/af/runs/r1/outputs/features', { body: { files: [{ path: 'f.bin', size: bytes.length, sha256 }] } });
    expect(declared).toMatchObject({ status: 201, body: { status: 'pending' } });
    const key = new URL(declared.body.files[0].upload.url).pathname.slice(1);
    expect(key).toMatch(new RegExp(`^blobs/sha256/${sha256}/[A-Za-z0-9_-]{22}$`));
    // The object as S3 holds it after the presigned PUT: the signed checksum, and the output it waits for.
    s3.on(HeadObjectCommand, { Key: key }).resolves({
      ContentLength: bytes.length,
      ChecksumSHA256: b64(sha256),
      Metadata: { 'arca-version': 'output:af/r1/features' },
    });
    await job({ Records: [{ s3: { bucket: { name: 'arca-test' }, object: { key, size: bytes.length } } }] } as unknown as S3Event);
    expect((await svc.call('GET', '/v1/flows/af/runs/r1/outputs/features')).body.status).toBe('ready');
  });
});
