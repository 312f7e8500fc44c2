/**
 * The S3 adapter: presigned PUTs and part URLs bind length, checksum and create-only as signed headers
 * (decoded from the URL, over random sizes and digests), and S3 errors are translated at the boundary.
 */
import '../../fixtures/unit-env.ts';
import {
  CompleteMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  NoSuchUpload,
  GetObjectCommand,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULTS } from '../../../contract/env.ts';
import {
  CLIENT_BASE,
  completeMultipartUpload,
  headBlob,
  hexToBase64,
  listParts,
  presignGet,
  presignPart,
  presignPut,
  presigner,
  signGetUrl,
  VERSION_META,
} from '../../../functions/adapters/s3.ts';
import { env } from '../../../functions/shared/env.ts';
import { uploadKey, uploadNonce } from '../../../contract/keys.ts';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
const signedHeaders = (url: string) => new URL(url).searchParams.get('X-Amz-SignedHeaders')?.split(';') ?? [];

describe('presigned uploads', () => {
  it('a PUT signs content-length, host, if-none-match and the SHA-256 as headers, never a CRC32, within the TTL', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 5 * 1024 ** 3 }), hex64, async (size, sha) => {
        const key = uploadKey(sha, uploadNonce());
        const req = await presignPut(key, sha, size, 'team/model@1.0.0');
        const url = new URL(req.url);
        const signed = signedHeaders(req.url);
        expect(signed).toEqual(expect.arrayContaining(['content-length', 'host', 'if-none-match', 'x-amz-checksum-sha256']));
        expect(signed.some((h) => h.includes('crc32'))).toBe(false);
        expect([...url.searchParams.keys()].some((k) => k.toLowerCase().includes('checksum'))).toBe(false);
        expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(DEFAULTS.presignPutTtlSeconds);
        expect(url.pathname).toBe(`/${key}`);
        // What the uploader must send is exactly what was signed (host is the URL's own).
        expect(Object.keys(req.headers).sort()).toEqual(signed.filter((h) => h !== 'host').sort());
        expect(req.headers).toMatchObject({ 'content-length': String(size), 'if-none-match': '*', 'x-amz-checksum-sha256': hexToBase64(sha) });
      }),
      { numRuns: 40 },
    );
  });

  it('a part URL signs the declared part digest and length', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 600 * 1024 ** 2 }), hex64, hex64, async (n, size, sha, part) => {
        const res = await presignPart(sha, 'upload-1', n, size, part);
        const url = new URL(res.url);
        expect(res.partNumber).toBe(n);
        expect(url.searchParams.get('partNumber')).toBe(String(n));
        expect(url.searchParams.get('uploadId')).toBe('upload-1');
        expect(signedHeaders(res.url).sort()).toEqual(['content-length', 'host', 'x-amz-checksum-sha256']);
        expect(res.headers).toEqual({ 'content-length': String(size), 'x-amz-checksum-sha256': hexToBase64(part) });
      }),
      { numRuns: 30 },
    );
  });

  it('a download URL lives at most the GET TTL and names the file', async () => {
    const url = new URL(await presignGet('d'.repeat(64), 'model "v1".pkl'));
    expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(DEFAULTS.presignGetTtlSeconds);
    expect(url.searchParams.get('response-content-disposition')).toBe('attachment; filename="model _v1_.pkl"');
  });
});

describe('the reused GET signer', () => {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG', sessionToken: 'session/token+=' };
  const signingDate = new Date('2026-12-03T10:00:00Z');
  const sdk = (client: S3Client, key: string, disposition?: string, type?: string) =>
    getSignedUrl(client, new GetObjectCommand({ Bucket: 'arca-bucket', Key: key, ResponseContentDisposition: disposition, ResponseContentType: type }), {
      expiresIn: 3600,
      signingDate,
    });

  it.each([
    ['virtual-hosted, us-east-1', { region: 'us-east-1' }],
    ['virtual-hosted, eu-west-1', { region: 'eu-west-1' }],
    ['path style behind a custom endpoint (local mode)', { region: 'us-east-1', endpoint: 'http://127.0.0.1:4567', forcePathStyle: true }],
  ])('signs exactly what getSignedUrl signs (%s), after learning the endpoint from it once', async (_kind, config) => {
    const client = new S3Client({ ...CLIENT_BASE, ...config, credentials });
    const keys = ['blobs/sha256/' + 'ab'.repeat(32), 'blobs/sha256/' + 'cd'.repeat(32)];
    const cases: [string, string | undefined, string | undefined][] = [
      [keys[0] ?? '', 'attachment; filename="m (1)_.bin"', 'application/x-thing'],
      [keys[1] ?? '', 'attachment; filename="weights*.pt"', undefined],
      [keys[0] ?? '', undefined, undefined],
    ];
    for (const [key, disposition, type] of cases) {
      const ours = await signGetUrl(client, 'arca-bucket', key, { expiresIn: 3600, contentDisposition: disposition, contentType: type, signingDate });
      expect(ours).toBe(await sdk(client, key, disposition, type));
    }
  });
});

describe('the reused signer for uploads', () => {
  // The SDK signs at `new Date()`: a frozen clock makes both URLs of a pair comparable byte for byte.
  afterEach(() => vi.useRealTimers());
  const options = (headers: Record<string, string>) => {
    const signed = new Set(Object.keys(headers));
    return { expiresIn: env.presignPutTtl, signableHeaders: signed, unhoistableHeaders: signed };
  };

  it('signs PUT URLs exactly as getSignedUrl does, for every key after the first', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-03T10:00:00Z'), toFake: ['Date'] });
    for (const [sha, size] of [['ab'.repeat(32), 17], ['cd'.repeat(32), 5 * 1024 ** 3], ['ef'.repeat(32), 0]] as const) {
      const key = uploadKey(sha, uploadNonce());
      const ours = await presignPut(key, sha, size, 'team/model@1.0.0');
      const sdk = await getSignedUrl(
        presigner,
        new PutObjectCommand({ Bucket: env.bucket, Key: key, ContentLength: size, ChecksumSHA256: hexToBase64(sha), IfNoneMatch: '*', Metadata: { [VERSION_META]: 'team/model@1.0.0' } }),
        options(ours.headers),
      );
      expect(ours.url).toBe(sdk);
    }
  });

  it('signs part URLs exactly as getSignedUrl does', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-03T10:00:00Z'), toFake: ['Date'] });
    const key = uploadKey('ab'.repeat(32), uploadNonce());
    for (const n of [1, 2, 10_000]) {
      const part = 'cd'.repeat(31) + n.toString(16).padStart(2, '0').slice(-2);
      const ours = await presignPart(key, 'upload/1+=', n, 8 * 1024 ** 2, part);
      const sdk = await getSignedUrl(
        presigner,
        new UploadPartCommand({ Bucket: env.bucket, Key: key, UploadId: 'upload/1+=', PartNumber: n, ContentLength: 8 * 1024 ** 2, ChecksumSHA256: hexToBase64(part) }),
        options(ours.headers),
      );
      expect(ours.url).toBe(sdk);
    }
  });
});

describe('S3 errors translated at the boundary', () => {
  const sha = 'e'.repeat(64);
  const key = uploadKey(sha, uploadNonce());
  const part = { partNumber: 1, etag: '"x"', size: 5, checksumSha256: 'abc=' };

  it('complete with If-None-Match on an existing blob → exists', async () => {
    s3.on(CompleteMultipartUploadCommand).rejects(
      new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', message: 'At least one of the pre-conditions you specified did not hold', $metadata: { httpStatusCode: 412 } }),
    );
    expect(await completeMultipartUpload(key, 'u', [part])).toBe('exists');
    const input = s3.commandCalls(CompleteMultipartUploadCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ IfNoneMatch: '*', Key: key, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"', ChecksumSHA256: 'abc=' }] } });
  });

  it('complete of an upload that is gone → gone', async () => {
    s3.on(CompleteMultipartUploadCommand).rejects(new NoSuchUpload({ message: 'no such upload', $metadata: { httpStatusCode: 404 } }));
    expect(await completeMultipartUpload(key, 'u', [part])).toBe('gone');
  });

  it('other S3 failures are not swallowed', async () => {
    s3.on(CompleteMultipartUploadCommand).rejects(new S3ServiceException({ name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 } }));
    await expect(completeMultipartUpload(key, 'u', [part])).rejects.toThrow(S3ServiceException);
  });

  it('HEAD of a missing blob → undefined; present → size, checksum, metadata', async () => {
    s3.on(HeadObjectCommand).rejectsOnce(new NotFound({ message: 'not found', $metadata: { httpStatusCode: 404 } }));
    expect(await headBlob(key)).toBeUndefined();
    s3.on(HeadObjectCommand).resolves({ ContentLength: 5, ChecksumSHA256: 'abc=', Metadata: { 'arca-version': 'a@1.0.0' } });
    expect(await headBlob(key)).toEqual({ size: 5, checksumSha256: 'abc=', metadata: { 'arca-version': 'a@1.0.0' } });
    expect(s3.commandCalls(HeadObjectCommand)[1]?.args[0].input).toMatchObject({ ChecksumMode: 'ENABLED' });
  });

  it('ListParts pages through every part; a finished upload → undefined', async () => {
    s3.on(ListPartsCommand, { PartNumberMarker: undefined })
      .resolves({ Parts: [{ PartNumber: 1, ETag: 'a', Size: 1, ChecksumSHA256: 'x' }], IsTruncated: true, NextPartNumberMarker: '1' })
      .on(ListPartsCommand, { PartNumberMarker: '1' })
      .resolves({ Parts: [{ PartNumber: 2, ETag: 'b', Size: 1 }], IsTruncated: false });
    expect(await listParts(key, 'u')).toEqual([
      { partNumber: 1, etag: 'a', size: 1, checksumSha256: 'x' },
      { partNumber: 2, etag: 'b', size: 1, checksumSha256: undefined },
    ]);
    s3.reset();
    s3.on(ListPartsCommand).rejects(new NoSuchUpload({ message: 'gone', $metadata: { httpStatusCode: 404 } }));
    expect(await listParts(key, 'u')).toBeUndefined();
  });
});
