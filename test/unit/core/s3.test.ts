/**
 * The S3 adapters: presigned PUTs and part URLs bind length, checksum and create-only as signed headers
 * (decoded from the URL, over random sizes and digests), every presigned URL is the one `getSignedUrl`
 * signs (presign.ts has no S3 client), and S3 errors are translated at the boundary.
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
import { CLIENT_BASE, completeMultipartUpload, headBlob, listParts } from '../../../functions/adapters/s3.ts';
import {
  createUrlSigner,
  getObject,
  presignGet,
  presignPart,
  presignPut,
  putObject,
  uploadPart,
  type ObjectRequest,
  type SignerConfig,
} from '../../../functions/adapters/presign.ts';
import { hexToBase64, VERSION_META } from '../../../functions/adapters/objectHeaders.ts';
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

describe('the reused signer: byte for byte what getSignedUrl signs, without an S3 client', () => {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG', sessionToken: 'session/token+=' };
  const signingDate = new Date('2026-12-03T10:00:00Z');
  const keys = [uploadKey('ab'.repeat(32), uploadNonce()), uploadKey('cd'.repeat(32), uploadNonce())];
  // What the SDK signs with: the signed headers are exactly the ones the caller must send.
  const sdkOptions = (headers: Record<string, string> = {}) => {
    const signed = new Set(Object.keys(headers));
    return { expiresIn: 3600, signingDate, signableHeaders: signed, unhoistableHeaders: signed };
  };

  it.each<[string, SignerConfig, string]>([
    ['virtual-hosted, us-east-1', { region: 'us-east-1', credentials }, 'arca-bucket'],
    ['virtual-hosted, eu-west-1', { region: 'eu-west-1', credentials }, 'arca-bucket'],
    ['the China partition', { region: 'cn-north-1', credentials }, 'arca-bucket'],
    ['FIPS', { region: 'us-east-1', useFipsEndpoint: true, credentials }, 'arca-bucket'],
    ['dual-stack', { region: 'eu-west-1', useDualstackEndpoint: true, credentials }, 'arca-bucket'],
    ['FIPS and dual-stack', { region: 'us-west-2', useFipsEndpoint: true, useDualstackEndpoint: true, credentials }, 'arca-bucket'],
    ['a bucket name with dots (path style over https)', { region: 'eu-west-1', credentials }, 'arca.assets'],
    ['path style behind a custom endpoint (local mode)', { region: 'us-east-1', endpoint: 'http://127.0.0.1:4567', credentials }, 'arca-bucket'],
  ])('%s: GET, PUT with its signed headers, part URLs', async (_kind, config, bucket) => {
    const { endpoint, ...rest } = config;
    const client = new S3Client({ ...CLIENT_BASE, ...rest, ...(endpoint ? { endpoint, forcePathStyle: true } : {}) });
    const signer = createUrlSigner(config);
    const ours = (key: string, request: ObjectRequest) => signer.sign(bucket, key, request, { expiresIn: 3600, signingDate });

    const gets: [string, string | undefined, string | undefined][] = [
      [keys[0] ?? '', 'attachment; filename="m (1)_.bin"', 'application/x-thing'],
      [keys[1] ?? '', 'attachment; filename="weights*.pt"', undefined],
      [keys[0] ?? '', undefined, undefined],
    ];
    for (const [key, disposition, type] of gets) {
      const sdk = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentDisposition: disposition, ResponseContentType: type }), sdkOptions());
      expect(await ours(key, getObject({ contentDisposition: disposition, contentType: type }))).toBe(sdk);
    }

    for (const [sha, size] of [['ab'.repeat(32), 17], ['cd'.repeat(32), 5 * 1024 ** 3], ['ef'.repeat(32), 0]] as const) {
      const key = uploadKey(sha, uploadNonce());
      const put = putObject(sha, size, 'team/model@1.0.0');
      const command = new PutObjectCommand({ Bucket: bucket, Key: key, ContentLength: size, ChecksumSHA256: hexToBase64(sha), IfNoneMatch: '*', Metadata: { [VERSION_META]: 'team/model@1.0.0' } });
      expect(await ours(key, put)).toBe(await getSignedUrl(client, command, sdkOptions(put.headers)));
    }

    for (const n of [1, 2, 10_000]) {
      const partSha = 'cd'.repeat(31) + n.toString(16).padStart(2, '0').slice(-2);
      const part = uploadPart('upload/1+=', n, 8 * 1024 ** 2, partSha);
      const command = new UploadPartCommand({ Bucket: bucket, Key: keys[0], UploadId: 'upload/1+=', PartNumber: n, ContentLength: 8 * 1024 ** 2, ChecksumSHA256: hexToBase64(partSha) });
      expect(await ours(keys[0] ?? '', part)).toBe(await getSignedUrl(client, command, sdkOptions(part.headers)));
    }
  });

  it("the function's own signer signs as an S3 client configured from the same environment", async () => {
    // The SDK signs at `new Date()`: a frozen clock makes both URLs of a pair comparable byte for byte.
    vi.useFakeTimers({ now: signingDate, toFake: ['Date'] });
    try {
      const endpoint = env.s3PublicEndpoint ?? env.s3Endpoint;
      const client = new S3Client({ ...CLIENT_BASE, ...(endpoint ? { endpoint, forcePathStyle: true } : {}) });
      const sha = 'ab'.repeat(32);
      const key = uploadKey(sha, uploadNonce());
      const put = await presignPut(key, sha, 17, 'team/model@1.0.0');
      const putCommand = new PutObjectCommand({ Bucket: env.bucket, Key: key, ContentLength: 17, ChecksumSHA256: hexToBase64(sha), IfNoneMatch: '*', Metadata: { [VERSION_META]: 'team/model@1.0.0' } });
      expect(put.url).toBe(await getSignedUrl(client, putCommand, { ...sdkOptions(put.headers), expiresIn: env.presignPutTtl }));
      const part = await presignPart(key, 'upload-1', 3, 1024, sha);
      const partCommand = new UploadPartCommand({ Bucket: env.bucket, Key: key, UploadId: 'upload-1', PartNumber: 3, ContentLength: 1024, ChecksumSHA256: hexToBase64(sha) });
      expect(part.url).toBe(await getSignedUrl(client, partCommand, { ...sdkOptions(part.headers), expiresIn: env.presignPutTtl }));
      const get = await presignGet(key, 'model.bin', 'application/octet-stream');
      const getCommand = new GetObjectCommand({ Bucket: env.bucket, Key: key, ResponseContentDisposition: 'attachment; filename="model.bin"', ResponseContentType: 'application/octet-stream' });
      expect(get).toBe(await getSignedUrl(client, getCommand, { ...sdkOptions(), expiresIn: env.presignGetTtl }));
    } finally {
      vi.useRealTimers();
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
