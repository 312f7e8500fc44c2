/**
 * R-STORE and R-UPLOAD over HTTP against local mode: no blob is trusted under a SHA-256 its bytes do not
 * have, presigned URLs are bound and expire, and a large file goes up in verified parts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, describe, expect, it } from 'vitest';
import { blobKey } from '../../contract/keys.ts';
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

    // The stand-in gap: write the wrong bytes under the declared digest's key straight into s3rver.
    const { bucket, s3StoreUrl, s3StoreToken } = arca();
    const store = s3Client(s3StoreUrl);
    store.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-arca-front-token'] = s3StoreToken;
        return next(args);
      },
      { step: 'build' },
    );
    await store.send(new PutObjectCommand({ Bucket: bucket, Key: blobKey(sha256hex(declared)), Body: other }));
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
    otherKey.pathname = otherKey.pathname.replace(/[0-9a-f]{64}$/, 'f'.repeat(64));
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
      new PutObjectCommand({ Bucket: bucket, Key: blobKey(sha256hex(bytes)), ContentLength: bytes.length, ChecksumSHA256: upload.headers['x-amz-checksum-sha256'], IfNoneMatch: '*' }),
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
