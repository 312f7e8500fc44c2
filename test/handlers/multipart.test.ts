/**
 * Multipart uploads and verification in `s3-checksum` mode (AWS), through the handlers on DynamoDB Local
 * with S3 mocked: part URLs in batches, resume, commit completing create-only, the composite checksum plus
 * a whole-object hash, and the ObjectCreated job finalizing a version.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../fixtures/service.ts';

const MIB = 1024 * 1024;
const s3 = mockClient(S3Client);
let svc: Service;

beforeAll(async () => {
  svc = await startService({ ARCA_VERIFY_MODE: 's3-checksum' });
  await svc.call('POST', '/v1/assets', { body: { name: 'mp/big', type: 'dataset' } });
});
afterAll(async () => svc?.stop());
afterEach(() => s3.reset());

const digest = (b: Buffer) => createHash('sha256').update(b);
const part1 = Buffer.alloc(64 * MIB, 1);
const part2 = Buffer.alloc(6 * MIB, 2);
const d1 = digest(part1).digest();
const d2 = digest(part2).digest();
const whole = createHash('sha256').update(part1).update(part2).digest('hex');
const composite = `${createHash('sha256').update(Buffer.concat([d1, d2])).digest('base64')}-2`;
const file = { path: 'train.parquet', size: 70 * MIB, sha256: whole, parts: [d1.toString('hex'), d2.toString('hex')] };
const listed = [
  { PartNumber: 1, ETag: '"e1"', Size: 64 * MIB, ChecksumSHA256: d1.toString('base64') },
  { PartNumber: 2, ETag: '"e2"', Size: 6 * MIB, ChecksumSHA256: d2.toString('base64') },
];

describe('multipart upload (R-UPLOAD) verified with S3 checksums (R-STORE)', () => {
  it('hands out an upload id and one URL per part, each signing the part digest', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    const res = await svc.call('POST', '/v1/assets/mp/big/-/versions', { body: { version: '1.0.0', files: [file] } });
    expect(res.status).toBe(201);
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0]?.args[0].input).toMatchObject({
      Key: await svc.fileKey('mp/big', '1.0.0', 'train.parquet'),
      ChecksumAlgorithm: 'SHA256',
      Metadata: { 'arca-version': 'mp/big@1.0.0' },
    });
    expect(await svc.fileKey('mp/big', '1.0.0', 'train.parquet')).toMatch(new RegExp(`^blobs/sha256/${whole}/[A-Za-z0-9_-]{22}$`));
    const mp = res.body.files[0].multipart;
    expect(mp).toMatchObject({ uploadId: 'up-1', partSize: 64 * MIB });
    expect(mp.nextPart).toBeUndefined();
    expect(mp.parts.map((p: { partNumber: number; headers: Record<string, string> }) => [p.partNumber, p.headers])).toEqual([
      [1, { 'content-length': String(64 * MIB), 'x-amz-checksum-sha256': d1.toString('base64') }],
      [2, { 'content-length': String(6 * MIB), 'x-amz-checksum-sha256': d2.toString('base64') }],
    ]);
  });

  it('re-issues part URLs from a given part (resume)', async () => {
    const res = await svc.call('POST', '/v1/assets/mp/big/-/versions/1.0.0/uploads/up-1/parts', { body: { from: 2 } });
    expect(res.status).toBe(200);
    expect(res.body.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([2]);
    const bad = await svc.call('POST', '/v1/assets/mp/big/-/versions/1.0.0/uploads/up-1/parts', { body: { from: 3 } });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'ValidationError' } } });
    const unknown = await svc.call('POST', '/v1/assets/mp/big/-/versions/1.0.0/uploads/nope/parts', { body: {} });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'NotFound' } } });
  });

  it('commit lists the parts that are missing', async () => {
    s3.on(ListPartsCommand).resolves({ Parts: [listed[0]!], IsTruncated: false });
    s3.on(HeadObjectCommand).rejects(new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 } }));
    const res = await svc.call('POST', '/v1/assets/mp/big/-/versions/1.0.0/commit');
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'UploadIncomplete', details: { missing: [{ path: 'train.parquet', parts: [2] }] } } } });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('commit completes create-only, checks the composite checksum, hashes the object, and the version is ready', async () => {
    s3.on(ListPartsCommand).resolves({ Parts: listed, IsTruncated: false });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    s3.on(HeadObjectCommand).resolves({ ContentLength: 70 * MIB, ChecksumSHA256: composite, Metadata: {} });
    s3.on(GetObjectCommand).callsFake(async () => ({ Body: Readable.from([part1, part2]) }));
    const res = await svc.call('POST', '/v1/assets/mp/big/-/versions/1.0.0/commit');
    expect(res).toMatchObject({ status: 200, body: { status: 'ready', files: [{ path: 'train.parquet', size: 70 * MIB, sha256: whole }] } });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)[0]?.args[0].input).toMatchObject({
      UploadId: 'up-1',
      IfNoneMatch: '*',
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"e1"', ChecksumSHA256: d1.toString('base64') }, { PartNumber: 2, ETag: '"e2"', ChecksumSHA256: d2.toString('base64') }] },
    });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
  });

  it('the blob is now present for another version, which is ready at once', async () => {
    const res = await svc.call('POST', '/v1/assets/mp/big/-/versions', { body: { version: '1.1.0', files: [file] } });
    expect(res).toMatchObject({ status: 201, body: { status: 'ready', files: [{ state: 'present' }] } });
    expect(s3.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
  });

  it('a key taken meanwhile (412 on complete) is verified as stored and the upload aborted', async () => {
    const other = { ...file, path: 'other.parquet', sha256: 'f'.repeat(64) };
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-2' });
    await svc.call('POST', '/v1/assets/mp/big/-/versions', { body: { version: '2.0.0', files: [other] } });
    s3.on(ListPartsCommand).resolves({ Parts: listed, IsTruncated: false });
    s3.on(CompleteMultipartUploadCommand).rejects(new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 } }));
    s3.on(HeadObjectCommand).resolves({ ContentLength: 70 * MIB, ChecksumSHA256: composite, Metadata: {} });
    s3.on(GetObjectCommand).callsFake(async () => ({ Body: Readable.from([part1, part2]) }));
    const res = await svc.call('POST', '/v1/assets/mp/big/-/versions/2.0.0/commit');
    // The stored object hashes to `whole`, not the declared digest: refused, and the version stays pending.
    expect(res).toMatchObject({ status: 422, body: { error: { code: 'ChecksumMismatch' } } });
    expect(s3.commandCalls(AbortMultipartUploadCommand)[0]?.args[0].input).toMatchObject({ UploadId: 'up-2' });
    expect((await svc.call('GET', '/v1/assets/mp/big/-/versions/2.0.0')).body.status).toBe('pending');
  });

  it('a file of 3,200 parts gets 1,000 URLs and nextPart', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-3' });
    const size = 3200 * 64 * MIB;
    const parts = Array.from({ length: 3200 }, (_, i) => createHash('sha256').update(String(i)).digest('hex'));
    const res = await svc.call('POST', '/v1/assets/mp/big/-/versions', { body: { version: '3.0.0', files: [{ path: 'huge.bin', size, sha256: 'd'.repeat(64), parts }] } });
    expect(res.status).toBe(201);
    const mp = res.body.files[0].multipart;
    expect([mp.parts.length, mp.parts[0].partNumber, mp.parts[999].partNumber, mp.nextPart]).toEqual([1000, 1, 1000, 1001]);
    const next = await svc.call('POST', '/v1/assets/mp/big/-/versions/3.0.0/uploads/up-3/parts', { body: { from: 3001 } });
    expect([next.body.parts.length, next.body.parts[199].partNumber, next.body.nextPart]).toEqual([200, 3200, undefined]);
    expect(next.body.parts[199].headers['x-amz-checksum-sha256']).toBe(Buffer.from(parts[3199]!, 'hex').toString('base64'));
  });
});

describe('ObjectCreated job (functions/jobs/finalize.ts)', () => {
  const bytes = Buffer.from('single put bytes');
  const sha = createHash('sha256').update(bytes).digest('hex');
  const event = (key: string): S3Event =>
    ({ Records: [{ s3: { bucket: { name: 'arca-test' }, object: { key, size: bytes.length } } }] }) as unknown as S3Event;

  it('finalizes the version named in the object metadata; S3-verified checksum needs no hashing', async () => {
    await svc.call('POST', '/v1/assets/mp/big/-/versions', { body: { version: '4.0.0', files: [{ path: 'a.txt', size: bytes.length, sha256: sha }] } });
    s3.on(HeadObjectCommand).resolves({ ContentLength: bytes.length, ChecksumSHA256: Buffer.from(sha, 'hex').toString('base64'), Metadata: { 'arca-version': 'mp/big@4.0.0' } });
    const { handler } = await import('../../functions/jobs/finalize.ts');
    await handler(event(await svc.fileKey('mp/big', '4.0.0', 'a.txt')));
    expect((await svc.call('GET', '/v1/assets/mp/big/-/versions/4.0.0')).body.status).toBe('ready');
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    // The commit that comes second returns the same ready version.
    expect((await svc.call('POST', '/v1/assets/mp/big/-/versions/4.0.0/commit')).body.status).toBe('ready');
  });

  it('ignores objects outside the blob store and blobs no version waits for', async () => {
    const { finalizeBlob, handler } = await import('../../functions/jobs/finalize.ts');
    await handler(event('other/key'));
    expect(s3.commandCalls(HeadObjectCommand)).toHaveLength(0);
    s3.on(HeadObjectCommand).resolves({ ContentLength: 1, Metadata: {} });
    expect(await finalizeBlob(`blobs/sha256/${'9'.repeat(64)}`)).toBe('skipped');
  });
});
