/**
 * R-STORE and R-UPLOAD over HTTP against local mode: no blob is trusted under a SHA-256 its bytes do not
 * have, presigned URLs are bound and expire, and a large file goes up in verified parts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResolveResult, VersionRecord } from '../../contract/schemas.ts';
import { arca, call, createAsset, createVersion, expectError, sha256hex, uniqueName, uploadSingle } from './api.ts';

const MiB = 1024 * 1024;
const name = uniqueName('integrity');
const clients: S3Client[] = [];

function s3Client(endpoint: string): S3Client {
  const { credentials } = arca();
  const client = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
  clients.push(client);
  return client;
}

afterAll(() => clients.forEach((c) => c.destroy()));

/** The object a presigned URL writes to: the upload's own key (path-style URL: `/<bucket>/<key>`). */
const keyOf = (url: string): string => decodeURIComponent(new URL(url).pathname).slice(`/${arca().bucket}/`.length);

const versionPath = (version: string) => `/v1/assets/${name}/-/versions/${version}`;

async function status(version: string): Promise<string> {
  const res = await call<VersionRecord>('GET', versionPath(version));
  expect(res.status, res.text).toBe(200);
  return res.body.status;
}

describe('integrity', () => {
  it('refuses other bytes than declared at the store; bytes slipped past it give 422 ChecksumMismatch and the version stays pending', async () => {
    await createAsset(name);
    const declared = Buffer.from(`declared bytes of ${name}`);
    const other = Buffer.alloc(declared.length, 'z');
    const created = await createVersion(name, [{ path: 'model.bin', bytes: declared }], { version: '1.0.0' });
    expect(created.status, created.text).toBe(201);
    const record = created.body.files[0]!;

    const refused = await uploadSingle(record, other);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('<Code>BadDigest</Code>');
    expectError(await call('POST', `${versionPath('1.0.0')}/commit`), 409, 'UploadIncomplete');
    expect(await status('1.0.0')).toBe('pending');

    // The stand-in gap: write the wrong bytes under the upload's key straight into s3rver.
    const { bucket, s3StoreUrl, s3StoreToken } = arca();
    const store = s3Client(s3StoreUrl);
    store.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-arca-front-token'] = s3StoreToken;
        return next(args);
      },
      { step: 'build' },
    );
    await store.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(record.upload!.url), Body: other }));
    expectError(await call('POST', `${versionPath('1.0.0')}/commit`), 422, 'ChecksumMismatch');
    expect(await status('1.0.0')).toBe('pending');
    const resolved = await call('GET', `/v1/resolve/${name}:1.0.0`);
    expectError(resolved, 404, 'NotFound');

    // R-STORE: bytes that failed verification are never counted `present` for another version.
    const again = await createVersion(name, [{ path: 'model.bin', bytes: declared }], { version: '1.0.1' });
    expect(again.status, again.text).toBe(201);
    expect(again.body.files[0]!.state).toBeUndefined();
    expect(again.body.status).toBe('pending');
  });

  it('refuses a tampered presigned URL and an expired one with 403, storing nothing', async () => {
    const bytes = Buffer.from(`tamper target of ${name}`);
    const created = await createVersion(name, [{ path: 'model.bin', bytes }], { version: '1.1.0' });
    expect(created.status, created.text).toBe(201);
    const upload = created.body.files[0]!.upload!;

    const otherKey = new URL(upload.url);
    expect(otherKey.pathname).toMatch(new RegExp(`/${sha256hex(bytes)}/[A-Za-z0-9_-]{22}$`));
    otherKey.pathname = otherKey.pathname.replace(/[0-9a-f]{64}/, 'f'.repeat(64));
    const tampered = await fetch(otherKey, { method: 'PUT', headers: upload.headers, body: bytes });
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');

    const longer = new URL(upload.url);
    longer.searchParams.set('X-Amz-Expires', '604800');
    expect((await fetch(longer, { method: 'PUT', headers: upload.headers, body: bytes })).status).toBe(403);

    // A URL the service would have issued two hours ago with a one-hour lifetime (same key pair, same headers).
    const { bucket, s3Url } = arca();
    const expiredUrl = await getSignedUrl(
      s3Client(s3Url),
      new PutObjectCommand({ Bucket: bucket, Key: keyOf(upload.url), ContentLength: bytes.length, ChecksumSHA256: upload.headers['x-amz-checksum-sha256'], IfNoneMatch: '*' }),
      {
        signingDate: new Date(Date.now() - 2 * 3600_000),
        expiresIn: 3600,
        signableHeaders: new Set(['content-length', 'if-none-match', 'x-amz-checksum-sha256']),
        unhoistableHeaders: new Set(['x-amz-checksum-sha256']),
      },
    );
    const expired = await fetch(expiredUrl, {
      method: 'PUT',
      headers: { 'content-length': String(bytes.length), 'if-none-match': '*', 'x-amz-checksum-sha256': upload.headers['x-amz-checksum-sha256']! },
      body: bytes,
    });
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');

    expectError(await call('POST', `${versionPath('1.1.0')}/commit`), 409, 'UploadIncomplete');
    expect(await status('1.1.0')).toBe('pending');
  });

  it('uploads a 70 MiB file in verified parts, commits it ready, and downloads it intact', async () => {
    const bytes = randomBytes(70 * MiB);
    const partSize = 64 * MiB;
    const parts = [bytes.subarray(0, partSize), bytes.subarray(partSize)];
    const sha256 = sha256hex(bytes);
    const created = await call<VersionRecord>('POST', `/v1/assets/${name}/-/versions`, {
      json: { version: '2.0.0', files: [{ path: 'weights.safetensors', size: bytes.length, sha256, parts: parts.map(sha256hex) }] },
    });
    expect(created.status, created.text).toBe(201);
    const multipart = created.body.files[0]!.multipart!;
    expect(multipart).toMatchObject({ partSize, uploadId: expect.any(String) });
    expect(multipart.parts.map((p) => p.partNumber)).toEqual([1, 2]);

    // A wrong part is refused by the store before the right one goes up.
    const first = multipart.parts[0]!;
    const wrong = await fetch(first.url, { method: 'PUT', headers: first.headers, body: Buffer.alloc(partSize, 1) });
    expect(wrong.status).toBe(400);
    for (const part of multipart.parts) {
      const res = await fetch(part.url, { method: 'PUT', headers: part.headers, body: parts[part.partNumber - 1] });
      expect(res.status, await res.clone().text()).toBe(200);
    }

    const committed = await call<VersionRecord>('POST', `${versionPath('2.0.0')}/commit`);
    expect(committed.status, committed.text).toBe(200);
    expect(committed.body.status).toBe('ready');

    const resolved = await call<ResolveResult>('GET', `/v1/resolve/${name}:2.0.0/weights.safetensors`);
    expect(resolved.status, resolved.text).toBe(200);
    const downloaded = Buffer.from(await (await fetch(resolved.body.files[0]!.url)).arrayBuffer());
    expect(downloaded.length).toBe(bytes.length);
    expect(createHash('sha256').update(downloaded).digest('hex')).toBe(sha256);
  });

  it('lets no writer deny another its bytes: after a poisoned multipart upload of digest X (422), an honest upload of X on another asset commits right away', async () => {
    // 65 MiB: two parts of the fixed part size (64 MiB, then 1 MiB), the smallest multipart file.
    const real = randomBytes(65 * MiB);
    const other = randomBytes(65 * MiB);
    const partSize = 64 * MiB;
    const split = (b: Buffer) => [b.subarray(0, partSize), b.subarray(partSize)];
    const digest = sha256hex(real);

    async function uploadParts(asset: string, version: string, parts: Buffer[]) {
      const created = await call<VersionRecord>('POST', `/v1/assets/${asset}/-/versions`, {
        json: { version, files: [{ path: 'weights.bin', size: real.length, sha256: digest, parts: parts.map(sha256hex) }] },
      });
      expect(created.status, created.text).toBe(201);
      expect(created.body.files[0]!.state).toBeUndefined();
      for (const part of created.body.files[0]!.multipart!.parts) {
        const res = await fetch(part.url, { method: 'PUT', headers: part.headers, body: parts[part.partNumber - 1] });
        expect(res.status, await res.clone().text()).toBe(200);
      }
      return call<VersionRecord>('POST', `/v1/assets/${asset}/-/versions/${version}/commit`);
    }

    // The poisoner declares X with honest part digests of other bytes: the store accepts every part.
    const poisoner = uniqueName('poisoner');
    await createAsset(poisoner);
    const poisoned = expectError(await uploadParts(poisoner, '1.0.0', split(other)), 422, 'ChecksumMismatch');
    expect(JSON.stringify(poisoned.details)).toContain(digest);

    // Right after, with no garbage collection in between: the honest writer's upload of X succeeds.
    const honest = uniqueName('honest');
    await createAsset(honest);
    const committed = await uploadParts(honest, '1.0.0', split(real));
    expect(committed.status, committed.text).toBe(200);
    expect(committed.body.status).toBe('ready');
    const resolved = await call<ResolveResult>('GET', `/v1/resolve/${honest}:1.0.0/weights.bin`);
    expect(resolved.status, resolved.text).toBe(200);
    const downloaded = Buffer.from(await (await fetch(resolved.body.files[0]!.url)).arrayBuffer());
    expect(sha256hex(downloaded)).toBe(digest);

    // Dedup now counts X present, for the poisoner too, and it resolves to the honest bytes.
    const again = await call<VersionRecord>('POST', `/v1/assets/${poisoner}/-/versions`, {
      json: { version: '1.0.1', files: [{ path: 'weights.bin', size: real.length, sha256: digest, parts: split(real).map(sha256hex) }] },
    });
    expect(again.status, again.text).toBe(201);
    expect(again.body.files[0]!.state).toBe('present');
    const viaPoisoner = await call<ResolveResult>('GET', `/v1/resolve/${poisoner}:1.0.1/weights.bin`);
    expect(viaPoisoner.status, viaPoisoner.text).toBe(200);
    expect(sha256hex(Buffer.from(await (await fetch(viaPoisoner.body.files[0]!.url)).arrayBuffer()))).toBe(digest);
  });

  it('makes a version ready from the upload\'s own S3 event, without a commit; a later commit returns the same ready record', async () => {
    const bytes = Buffer.from(`no commit needed for ${name}`);
    const created = await createVersion(name, [{ path: 'event.bin', bytes }], { version: '4.0.0' });
    expect(created.status, created.text).toBe(201);
    expect((await uploadSingle(created.body.files[0]!, bytes)).status).toBe(200);
    await expect.poll(() => status('4.0.0'), { timeout: 10_000, interval: 100 }).toBe('ready');
    const committed = await call<VersionRecord>('POST', `${versionPath('4.0.0')}/commit`);
    expect(committed.status, committed.text).toBe(200);
    expect(committed.body.status).toBe('ready');
  });

  it('answers 409 UploadIncomplete to a commit whose bytes never arrived', async () => {
    const created = await createVersion(name, [{ path: 'never.bin', bytes: Buffer.from(`never sent ${name}`) }], { version: '3.0.0' });
    expect(created.status, created.text).toBe(201);
    const error = expectError(await call('POST', `${versionPath('3.0.0')}/commit`), 409, 'UploadIncomplete');
    expect(JSON.stringify(error)).toContain('never.bin');
    expect(await status('3.0.0')).toBe('pending');
  });
});
