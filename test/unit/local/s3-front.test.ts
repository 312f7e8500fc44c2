/**
 * The verifying front of local mode's S3 stand-in: presigned URLs made by the SDK exactly as the service makes
 * them, sent over HTTP, checked for signature, expiry, signed headers, checksum, length and If-None-Match.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  AbortMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPresigned, KeyLocks } from '../../../local/s3-front.ts';
import { newStandInSecret, standInCredentials, startS3, type LocalS3 } from '../../../local/s3.ts';

const BUCKET = 'front-test';
const LOCAL_CREDENTIALS = standInCredentials(newStandInSecret());
const MiB = 1024 * 1024;
const b64 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('base64');

let s3: LocalS3;
let dir: string;
let client: S3Client;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'arca-front-'));
  s3 = await startS3({ dir, bucket: BUCKET, credentials: LOCAL_CREDENTIALS });
  client = new S3Client({
    endpoint: s3.url,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});

afterAll(async () => {
  client?.destroy();
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A presigned create-only PUT bound to key, length and checksum, as the service hands them out. */
async function presignPut(key: string, bytes: Buffer, options: { signingDate?: Date; expiresIn?: number } = {}) {
  const checksum = b64(bytes);
  const url = await getSignedUrl(
    client,
    new PutObjectCommand({ Bucket: BUCKET, Key: key, ContentLength: bytes.length, ChecksumSHA256: checksum, IfNoneMatch: '*' }),
    {
      expiresIn: options.expiresIn ?? 3600,
      ...(options.signingDate ? { signingDate: options.signingDate } : {}),
      signableHeaders: new Set(['content-length', 'if-none-match', 'x-amz-checksum-sha256']),
      unhoistableHeaders: new Set(['x-amz-checksum-sha256']),
    },
  );
  const headers: Record<string, string> = { 'content-length': String(bytes.length), 'if-none-match': '*', 'x-amz-checksum-sha256': checksum };
  return { url, headers };
}

const put = (url: string, headers: Record<string, string>, body: Buffer) => fetch(url, { method: 'PUT', headers, body });

async function stored(key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch (err) {
    if ((err as Error).name === 'NotFound') return false;
    throw err;
  }
}

async function expectS3Error(res: Response, status: number, code: string): Promise<string> {
  const text = await res.text();
  expect({ status: res.status, code: /<Code>(.*?)<\/Code>/.exec(text)?.[1] }).toEqual({ status, code });
  expect(res.headers.get('content-type')).toBe('application/xml');
  return text;
}

describe('presigned PUT through the front', () => {
  it('stores the bytes when sent with exactly the signed headers, and a presigned GET (with Range) returns them', async () => {
    const bytes = Buffer.from('hello, arca');
    const { url, headers } = await presignPut('blobs/ok', bytes);
    const res = await put(url, headers, bytes);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${createHash('md5').update(bytes).digest('hex')}"`);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');

    const getUrl = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: 'blobs/ok' }), { expiresIn: 900 });
    const whole = await fetch(getUrl);
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(bytes);
    const part = await fetch(getUrl, { headers: { range: 'bytes=7-10' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 7-10/${bytes.length}`);
    expect(await part.text()).toBe('arca');
  });

  it('refuses other bytes than the signed checksum with 400 BadDigest and stores nothing', async () => {
    const declared = Buffer.from('the declared bytes');
    const other = Buffer.from('some other bytes!!');
    expect(other.length).toBe(declared.length);
    const { url, headers } = await presignPut('blobs/bad-digest', declared);
    const text = await expectS3Error(await put(url, headers, other), 400, 'BadDigest');
    expect(text).toContain('SHA256');
    expect(await stored('blobs/bad-digest')).toBe(false);
  });

  it('refuses a second create-only PUT on an existing key with 412, and keeps the first bytes', async () => {
    const bytes = Buffer.from('first');
    const first = await presignPut('blobs/once', bytes);
    expect((await put(first.url, first.headers, bytes)).status).toBe(200);
    const again = await presignPut('blobs/once', bytes);
    await expectS3Error(await put(again.url, again.headers, bytes), 412, 'PreconditionFailed');
  });

  it('lets exactly one of concurrent create-only PUTs on one key win', async () => {
    const bytes = Buffer.from('race');
    const urls = await Promise.all(Array.from({ length: 8 }, () => presignPut('blobs/race', bytes)));
    const statuses = await Promise.all(urls.map(async ({ url, headers }) => (await put(url, headers, bytes)).status));
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(7);
  });

  it.each([
    ['the key', (u: URL) => (u.pathname = u.pathname.replace('tampered', 'tampere2'))],
    ['the lifetime', (u: URL) => u.searchParams.set('X-Amz-Expires', '7200')],
    ['the signature', (u: URL) => u.searchParams.set('X-Amz-Signature', '0'.repeat(64))],
    ['the signed header list', (u: URL) => u.searchParams.set('X-Amz-SignedHeaders', 'host')],
  ])('refuses a URL with %s tampered with 403', async (_what, tamper) => {
    const bytes = Buffer.from('tamper me');
    const { url, headers } = await presignPut('blobs/tampered', bytes);
    const u = new URL(url);
    tamper(u);
    await expectS3Error(await put(u.toString(), headers, bytes), 403, 'SignatureDoesNotMatch');
    expect(await stored('blobs/tampered')).toBe(false);
  });

  it('refuses an expired URL with 403 AccessDenied', async () => {
    const bytes = Buffer.from('too late');
    const { url, headers } = await presignPut('blobs/expired', bytes, { signingDate: new Date(Date.now() - 2 * 3600_000), expiresIn: 3600 });
    const text = await expectS3Error(await put(url, headers, bytes), 403, 'AccessDenied');
    expect(text).toContain('Request has expired');
    expect(await stored('blobs/expired')).toBe(false);
  });

  it.each(['x-amz-checksum-sha256', 'if-none-match'])('refuses the PUT with 403 when the signed header %s is missing', async (header) => {
    const bytes = Buffer.from('headers matter');
    const { url, headers } = await presignPut('blobs/missing-header', bytes);
    const { [header]: _dropped, ...rest } = headers;
    const text = await expectS3Error(await put(url, rest, bytes), 403, 'SignatureDoesNotMatch');
    expect(text).toContain(header);
  });

  it('refuses a signed header sent with another value (a different declared checksum) with 403', async () => {
    const bytes = Buffer.from('value matters');
    const { url, headers } = await presignPut('blobs/other-value', bytes);
    const res = await put(url, { ...headers, 'x-amz-checksum-sha256': b64(Buffer.from('x')) }, Buffer.from('x'.repeat(bytes.length)));
    await expectS3Error(res, 403, 'SignatureDoesNotMatch');
  });

  it('refuses fewer bytes than the signed Content-Length', async () => {
    const bytes = Buffer.from('twelve bytes');
    const { url, headers } = await presignPut('blobs/short', bytes);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(url, { method: 'PUT', headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      // Declares 12 bytes, sends 5, then ends the connection: S3 never stores a short body.
      req.write(bytes.subarray(0, 5));
      setTimeout(() => req.destroy(), 200);
    }).catch(() => 0);
    expect(status === 0 || status === 400).toBe(true);
    expect(await stored('blobs/short')).toBe(false);
    // Nor is the partial body left in the spool.
    await expect.poll(() => readdir(path.join(dir, 'spool')), { timeout: 2000 }).toEqual([]);
  });

  it('refuses anonymous requests and unknown access keys with 403', async () => {
    await expectS3Error(await fetch(`${s3.url}/${BUCKET}/blobs/ok`), 403, 'AccessDenied');
    const other = new S3Client({ endpoint: s3.url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'SOMEONE', secretAccessKey: 'x' } });
    const url = await getSignedUrl(other, new GetObjectCommand({ Bucket: BUCKET, Key: 'blobs/ok' }));
    await expectS3Error(await fetch(url), 403, 'InvalidAccessKeyId');
    other.destroy();
  });
});

describe('header-signed requests through the front (the service\'s own calls)', () => {
  const sdk = (config: Partial<ConstructorParameters<typeof S3Client>[0]>) => {
    const c = new S3Client({ endpoint: s3.url, forcePathStyle: true, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, ...config });
    return c;
  };

  it('accepts the local key pair and refuses a wrong secret or a skewed clock with 403', async () => {
    const key = 'blobs/header-signed';
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from('signed in a header'), IfNoneMatch: '*' }));
    expect(await stored(key)).toBe(true);

    const wrongSecret = sdk({ credentials: { ...LOCAL_CREDENTIALS, secretAccessKey: 'not-it' } });
    await expect(wrongSecret.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    await expect(wrongSecret.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'blobs/forged', Body: 'x', IfNoneMatch: '*' }))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
    });
    expect(await stored('blobs/forged')).toBe(false);
    wrongSecret.destroy();

    const skewed = sdk({ systemClockOffset: -20 * 60_000 });
    await expect(skewed.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'blobs/skewed', Body: 'x', IfNoneMatch: '*' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    skewed.destroy();
    expect(await stored('blobs/skewed')).toBe(false);
  });
});

describe('create-only writes, as the deployed bucket policy (issue 13)', () => {
  it('refuses PutObject without If-None-Match: * with 403 AccessDenied, so a verified object cannot be replaced', async () => {
    const key = 'blobs/sha256/create-only';
    const original = Buffer.from('the verified bytes');
    const { url, headers } = await presignPut(key, original);
    expect((await put(url, headers, original)).status).toBe(200);

    const other = Buffer.alloc(original.length, 'z');
    const overwrite = await getSignedUrl(
      client,
      new PutObjectCommand({ Bucket: BUCKET, Key: key, ContentLength: other.length, ChecksumSHA256: b64(other) }),
      { expiresIn: 3600, unhoistableHeaders: new Set(['x-amz-checksum-sha256']) },
    );
    await expectS3Error(await put(overwrite, { 'content-length': String(other.length), 'x-amz-checksum-sha256': b64(other) }, other), 403, 'AccessDenied');
    await expect(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: other }))).rejects.toMatchObject({ name: 'AccessDenied' });
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(original)).toBe(true);
  });

  it('refuses CompleteMultipartUpload without If-None-Match: * with 403 AccessDenied', async () => {
    const key = 'blobs/sha256/create-only-multi';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const part = await client.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: Buffer.from('x') }));
    const parts = [{ PartNumber: 1, ETag: part.ETag }];
    await expect(client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts: parts } }))).rejects.toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    expect(await stored(key)).toBe(false);
    await client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: parts } }));
    expect(await stored(key)).toBe(true);
  });

  it('refuses a URL presigned with s3rver\'s built-in key pair: the secret is per data folder', async () => {
    const bytes = Buffer.from('forged with the well-known key');
    const wellKnown = new S3Client({ endpoint: s3.url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const url = await getSignedUrl(wellKnown, new PutObjectCommand({ Bucket: BUCKET, Key: 'blobs/well-known', ContentLength: bytes.length, IfNoneMatch: '*' }), {
      expiresIn: 3600,
      signableHeaders: new Set(['if-none-match']),
      unhoistableHeaders: new Set(['if-none-match']),
    });
    wellKnown.destroy();
    await expectS3Error(await put(url, { 'content-length': String(bytes.length), 'if-none-match': '*' }, bytes), 403, 'SignatureDoesNotMatch');
    expect(await stored('blobs/well-known')).toBe(false);
  });
});

describe('s3rver behind the front', () => {
  it('answers only requests that come through the front: anonymous reads, lists and writes get 403', async () => {
    const key = 'blobs/behind-front';
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from('kept'), IfNoneMatch: '*' }));
    for (const [method, target] of [
      ['GET', `/${BUCKET}/${key}`],
      ['GET', `/${BUCKET}`],
      ['GET', '/'],
      ['DELETE', `/${BUCKET}/${key}`],
    ] as const) {
      const res = await fetch(`${s3.storeUrl}${target}`, { method });
      expect(res.status, `${method} ${target}`).toBe(403);
      expect(await res.text()).toContain('<Code>AccessDenied</Code>');
    }
    const write = await fetch(`${s3.storeUrl}/${BUCKET}/blobs/anonymous`, { method: 'PUT', body: 'x' });
    expect(write.status).toBe(403);
    expect(await stored('blobs/anonymous')).toBe(false);
    expect(await stored(key)).toBe(true);
    const withToken = await fetch(`${s3.storeUrl}/${BUCKET}/${key}`, { headers: { 'x-arca-front-token': s3.storeToken } });
    expect(withToken.status).toBe(200);
    expect(await withToken.text()).toBe('kept');
  });
});

describe('multipart through the front', () => {
  it('verifies each part, lists parts with their SHA-256, completes create-only, and refuses a wrong part list', async () => {
    const key = 'blobs/multi';
    const partBytes = [Buffer.alloc(5 * MiB, 1), Buffer.from('the rest')];
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: 'SHA256' }));
    expect(UploadId).toBeTruthy();

    const etags: string[] = [];
    for (const [i, bytes] of partBytes.entries()) {
      const checksum = b64(bytes);
      const url = await getSignedUrl(
        client,
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1, ContentLength: bytes.length, ChecksumSHA256: checksum }),
        { expiresIn: 3600, unhoistableHeaders: new Set(['x-amz-checksum-sha256']) },
      );
      const headers = { 'content-length': String(bytes.length), 'x-amz-checksum-sha256': checksum };
      // Wrong bytes for the part first: refused, nothing kept.
      await expectS3Error(await put(url, headers, Buffer.alloc(bytes.length, 7)), 400, 'BadDigest');
      const res = await put(url, headers, bytes);
      expect(res.status).toBe(200);
      etags.push(res.headers.get('etag') ?? '');
    }

    const listed = await client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId }));
    expect(listed.Parts?.map((p) => ({ n: p.PartNumber, size: p.Size, sha: p.ChecksumSHA256, etag: p.ETag }))).toEqual(
      partBytes.map((bytes, i) => ({ n: i + 1, size: bytes.length, sha: b64(bytes), etag: etags[i] })),
    );

    await expect(
      client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0000"' }] } })),
    ).rejects.toMatchObject({ name: 'InvalidPart' });

    const parts = etags.map((ETag, i) => ({ PartNumber: i + 1, ETag }));
    await client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: parts } }));
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const body = Buffer.from(await got.Body!.transformToByteArray());
    expect(body.equals(Buffer.concat(partBytes))).toBe(true);

    // A second upload to the same key cannot complete over it.
    const second = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const p1 = await client.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: second.UploadId, PartNumber: 1, Body: Buffer.from('x') }));
    await expect(
      client.send(
        new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: second.UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] } }),
      ),
    ).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });

    await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: second.UploadId }));
    await expect(client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: second.UploadId }))).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });
});

describe('multipart objects assembled and hashed as the parts arrive (local/arrivals.ts)', () => {
  const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  /** s3rver itself, past the front: writes the front cannot see. */
  const past = () => {
    const c = new S3Client({ endpoint: s3.storeUrl, forcePathStyle: true, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
    c.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-arca-front-token'] = s3.storeToken;
        return next(args);
      },
      { step: 'build' },
    );
    return c;
  };

  /** An upload of `key` whose part n is sent with `send(n, bytes)`, through the front or `via` another client. */
  async function multipart(key: string) {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: 'SHA256', ContentType: 'application/x-test', Metadata: { 'arca-version': 'v' } }),
    );
    const etags = new Map<number, string>();
    return {
      async send(n: number, bytes: Buffer, via: S3Client = client) {
        const out = await via.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: n, Body: bytes, ContentLength: bytes.length }));
        etags.set(n, out.ETag ?? '');
      },
      async complete(listed: number[]) {
        const Parts = listed.map((PartNumber) => ({ PartNumber, ETag: etags.get(PartNumber) }));
        await client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, IfNoneMatch: '*', MultipartUpload: { Parts } }));
      },
    };
  }
  const parts = () => [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(MiB)];

  it('knows the digest of parts sent in order, and of parts sent out of order; the object is what s3rver would have stored', async () => {
    for (const [key, order] of [['blobs/arrive-in-order', [1, 2, 3]], ['blobs/arrive-out-of-order', [3, 1, 2]]] as const) {
      const bytes = parts();
      const upload = await multipart(key);
      for (const n of order) await upload.send(n, bytes[n - 1]!);
      expect(await s3.arrivedDigest(key)).toBeUndefined();
      await upload.complete([1, 2, 3]);
      const whole = Buffer.concat(bytes);
      expect(await s3.arrivedDigest(key), key).toEqual({ size: whole.length, sha256: sha(whole) });

      const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      expect(head).toMatchObject({
        ContentLength: whole.length,
        ContentType: 'application/x-test',
        // S3's ETag for a multipart object (s3rver's own concatenation gives a plain MD5).
        ETag: `"${createHash('md5').update(Buffer.concat(bytes.map((b) => createHash('md5').update(b).digest()))).digest('hex')}-3"`,
        Metadata: { 'arca-version': 'v' },
      });
      const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(whole)).toBe(true);
    }
    // Nothing left half-assembled.
    expect(await readdir(path.join(dir, 'staged'))).toEqual([]);
  });

  it('a part stored again with other bytes after the prefix passed it: the digest is of the bytes stored last', async () => {
    const bytes = parts();
    const upload = await multipart('blobs/arrive-again');
    for (const n of [1, 2, 3]) await upload.send(n, bytes[n - 1]!);
    bytes[0] = randomBytes(5 * MiB);
    await upload.send(1, bytes[0]);
    await upload.complete([1, 2, 3]);
    const whole = Buffer.concat(bytes);
    expect(await s3.arrivedDigest('blobs/arrive-again')).toEqual({ size: whole.length, sha256: sha(whole) });
  });

  it('a Complete that omits the last part gets the digest of the listed ones; one that omits a middle part gets none', async () => {
    const bytes = parts();
    const first = await multipart('blobs/arrive-prefix');
    for (const n of [1, 2, 3]) await first.send(n, bytes[n - 1]!);
    await first.complete([1, 2]);
    const listed = Buffer.concat(bytes.slice(0, 2));
    expect(await s3.arrivedDigest('blobs/arrive-prefix')).toEqual({ size: listed.length, sha256: sha(listed) });

    const second = await multipart('blobs/arrive-gap');
    for (const n of [1, 2, 3]) await second.send(n, bytes[n - 1]!);
    await second.complete([1, 3]);
    expect(await s3.arrivedDigest('blobs/arrive-gap')).toBeUndefined();
  });

  it('parts written into s3rver past the front: never a digest of other bytes than the object holds', async () => {
    const bytes = parts();
    const unseen = await multipart('blobs/arrive-unseen');
    const store = past();
    try {
      await unseen.send(1, bytes[0]!);
      await unseen.send(2, bytes[1]!, store);
      await unseen.send(3, bytes[2]!);
      await unseen.complete([1, 2, 3]);
      expect(await s3.arrivedDigest('blobs/arrive-unseen')).toBeUndefined();

      const changed = await multipart('blobs/arrive-changed');
      for (const n of [1, 2, 3]) await changed.send(n, bytes[n - 1]!);
      const other = randomBytes(5 * MiB);
      await changed.send(2, other, store);
      await changed.complete([1, 2, 3]);
      // s3rver's MD5 of part 2 is no longer the one of the write the front saw: s3rver concatenates what it holds.
      expect(await s3.arrivedDigest('blobs/arrive-changed')).toBeUndefined();
      const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'blobs/arrive-changed' }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([bytes[0]!, other, bytes[2]!]))).toBe(true);

      // The object itself replaced in s3rver after completion: its digest is no longer known.
      const replaced = await multipart('blobs/arrive-replaced');
      for (const n of [1, 2, 3]) await replaced.send(n, bytes[n - 1]!);
      await replaced.complete([1, 2, 3]);
      expect(await s3.arrivedDigest('blobs/arrive-replaced')).toBeDefined();
      await store.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'blobs/arrive-replaced', Body: Buffer.concat(bytes).fill(1, 0, 1) }));
      expect(await s3.arrivedDigest('blobs/arrive-replaced')).toBeUndefined();
    } finally {
      store.destroy();
    }
  });
});

describe('verifyPresigned', () => {
  const host = '127.0.0.1:9';
  const presign = async (signingDate: Date) => {
    const c = new S3Client({ endpoint: `http://${host}`, forcePathStyle: true, region: 'eu-west-1', credentials: LOCAL_CREDENTIALS });
    const url = new URL(await getSignedUrl(c, new GetObjectCommand({ Bucket: 'b', Key: 'a b/ü+c' }), { expiresIn: 60, signingDate }));
    c.destroy();
    return url;
  };

  it('accepts until the last second of the lifetime, in any region, with keys needing escapes', async () => {
    const signed = new Date('2026-01-01T00:00:00Z');
    const url = await presign(signed);
    const req = { method: 'GET', path: url.pathname, query: url.searchParams, headers: { host } };
    expect(await verifyPresigned(req, LOCAL_CREDENTIALS, new Date(signed.getTime() + 60_000))).toBeUndefined();
    expect(await verifyPresigned(req, LOCAL_CREDENTIALS, new Date(signed.getTime() + 61_000))).toEqual({ status: 403, code: 'AccessDenied', message: 'Request has expired' });
  });

  it('refuses another method, another host, and another secret key', async () => {
    const signed = new Date('2026-01-01T00:00:00Z');
    const url = await presign(signed);
    const at = new Date(signed.getTime() + 1000);
    const base = { method: 'GET', path: url.pathname, query: url.searchParams, headers: { host } };
    expect((await verifyPresigned({ ...base, method: 'DELETE' }, LOCAL_CREDENTIALS, at))?.code).toBe('SignatureDoesNotMatch');
    expect((await verifyPresigned({ ...base, headers: { host: 'evil:9' } }, LOCAL_CREDENTIALS, at))?.code).toBe('SignatureDoesNotMatch');
    expect((await verifyPresigned(base, { ...LOCAL_CREDENTIALS, secretAccessKey: 'other' }, at))?.code).toBe('SignatureDoesNotMatch');
  });
});

describe('KeyLocks', () => {
  it('runs work on one key one at a time, and other keys alongside', async () => {
    const locks = new KeyLocks();
    const log: string[] = [];
    const step = (name: string, ms: number) => async () => {
      log.push(`${name}>`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`<${name}`);
    };
    await Promise.all([locks.run('a', step('a1', 30)), locks.run('a', step('a2', 1)), locks.run('b', step('b1', 1))]);
    expect(log.indexOf('a2>')).toBeGreaterThan(log.indexOf('<a1'));
    expect(log.indexOf('<b1')).toBeLessThan(log.indexOf('<a1'));
  });
});
