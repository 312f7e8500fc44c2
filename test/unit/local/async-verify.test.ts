/**
 * Commit bounded in time, end to end in local mode (R-UPLOAD "whichever comes first"): with the inline
 * limit at 1 MiB, committing a multipart file completes its upload and answers 202 without hashing; the
 * verifying front raises ObjectCreated for CompleteMultipartUpload, the finalize job hashes the blob and the
 * version becomes ready (or its blob is rejected and commit answers 422). Starts its own registry, since
 * the handlers read the limit once per process.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcaClient } from '../../../client/client.ts';
import type { ErrorBody } from '../../../contract/errors.ts';
import type { FileDeclaration, ResolveResult, VersionRecord } from '../../../contract/schemas.ts';
import { startLocal, type LocalRegistry } from '../../../local/server.ts';

const MIB = 1024 * 1024;
let registry: LocalRegistry | undefined;
let work: string;
const failures: unknown[] = [];

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  work = await mkdtemp(join(tmpdir(), 'arca-async-verify-'));
  registry = await startLocal({
    dataDir: join(work, 'registry'),
    port: 0,
    inMemory: true,
    env: { ARCA_INLINE_VERIFY_MAX_BYTES: String(MIB), ARCA_MULTIPART_THRESHOLD: String(5 * MIB) },
    onError: (error) => failures.push(error),
  });
  const created = await api('POST', '/v1/assets', { name: 'av/model', type: 'model' });
  expect(created.status).toBe(201);
});

afterAll(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
  expect(failures).toEqual([]);
});

const sha256hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function api<T = VersionRecord>(method: string, path: string, json?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${registry!.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${registry!.token}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return { status: res.status, body: (await res.json()) as T };
}

const versionPath = (v: string) => `/v1/assets/av/model/-/versions/${v}`;

/** Creates a version of one multipart file and uploads its parts through the verifying front. */
async function upload(version: string, bytes: Buffer, declared: Partial<FileDeclaration> = {}): Promise<void> {
  const partSize = 64 * MIB;
  const parts = Array.from({ length: Math.ceil(bytes.length / partSize) }, (_, i) => bytes.subarray(i * partSize, (i + 1) * partSize));
  const created = await api('POST', '/v1/assets/av/model/-/versions', {
    version,
    files: [{ path: 'weights.bin', size: bytes.length, sha256: sha256hex(bytes), parts: parts.map(sha256hex), ...declared }],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const multipart = created.body.files[0]!.multipart!;
  for (const part of multipart.parts) {
    const res = await fetch(part.url, { method: 'PUT', headers: part.headers, body: parts[part.partNumber - 1] });
    expect(res.status, await res.text()).toBe(200);
  }
}

describe('commit of a file over the inline limit (local mode)', () => {
  it('70 MiB: commit answers 202 at once, the ObjectCreated job makes the version ready, the download is intact', async () => {
    const bytes = randomBytes(70 * MIB);
    await upload('1.0.0', bytes);

    const committed = await api('POST', `${versionPath('1.0.0')}/commit`);
    expect(committed).toMatchObject({ status: 202, body: { status: 'pending', files: [{ path: 'weights.bin', verification: 'in-progress' }] } });

    await expect.poll(async () => (await api('GET', versionPath('1.0.0'))).body.status, { timeout: 30_000, interval: 100 }).toBe('ready');
    const again = await api('POST', `${versionPath('1.0.0')}/commit`);
    expect(again).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(again.body.files[0]!.verification).toBeUndefined();

    const resolved = await api<ResolveResult>('GET', '/v1/resolve/av/model:1.0.0/weights.bin');
    const downloaded = Buffer.from(await (await fetch(resolved.body.files[0]!.url)).arrayBuffer());
    expect(sha256hex(downloaded)).toBe(sha256hex(bytes));
  });

  it('right parts under a wrong whole-file digest: 202, then the job rejects the blob and commit answers 422', async () => {
    const bytes = randomBytes(6 * MIB);
    await upload('2.0.0', bytes, { sha256: sha256hex(randomBytes(8)) });
    expect((await api('POST', `${versionPath('2.0.0')}/commit`)).status).toBe(202);
    await expect.poll(async () => (await api('POST', `${versionPath('2.0.0')}/commit`)).status, { timeout: 30_000, interval: 100 }).toBe(422);
    const refused = await api<ErrorBody>('POST', `${versionPath('2.0.0')}/commit`);
    expect(refused.body.error).toMatchObject({ code: 'ChecksumMismatch', details: { files: [{ path: 'weights.bin', reason: `stored bytes hash to ${sha256hex(bytes)}` }] } });
    expect((await api('GET', versionPath('2.0.0'))).body.status).toBe('pending');
  });

  it('the client pushes a multipart file through the 202 and returns the version ready', async () => {
    const src = join(work, 'big.bin');
    await writeFile(src, randomBytes(6 * MIB));
    const client = new ArcaClient({ url: registry!.url, token: registry!.token, cacheDir: join(work, 'cache'), multipartThreshold: 5 * MIB });
    try {
      const pushed = await client.push('av/model', [src], { version: '3.0.0' });
      expect(pushed.version).toMatchObject({ version: '3.0.0', status: 'ready' });
    } finally {
      client.close();
    }
  });
});
