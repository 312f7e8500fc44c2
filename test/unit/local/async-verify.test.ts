/**
 * Commit of a multipart file end to end in local mode (R-UPLOAD "whichever comes first", R-STORE), with the
 * inline limit at 1 MiB. The verifying front assembles and hashes the parts as they arrive (local/arrivals.ts),
 * so commit makes the version ready (or answers 422) without reading the object back; counted by a proxy
 * between the service and the front, through which all of the service's own S3 calls go. Where the front cannot
 * vouch for the stored bytes (a part it never saw, a part changed behind it), s3rver concatenates the parts,
 * commit answers 202 and the ObjectCreated job reads the object back, hashes it and gives the verdict. Starts its
 * own registry, since the handlers read the limit once per process.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcaClient } from '../../../client/client.ts';
import type { ErrorBody } from '../../../contract/errors.ts';
import type { FileDeclaration, ResolveResult, VersionRecord } from '../../../contract/schemas.ts';
import { UPSTREAM_TOKEN_HEADER } from '../../../local/s3-front.ts';
import { startLocal, type LocalRegistry } from '../../../local/server.ts';

const MIB = 1024 * 1024;
const PART = 64 * MIB;
let registry: LocalRegistry | undefined;
let proxy: Server | undefined;
let store: S3Client | undefined;
let work: string;
const failures: unknown[] = [];
/** Object bytes the service's S3 client has read back (GetObject answers through the proxy). */
let readBack = 0;

/** Relays the service's S3 calls to the front, counting the bytes of every GetObject answer. */
async function countingProxy(target: () => URL): Promise<Server> {
  const server = createServer((req, res) => {
    const front = target();
    const out = request({ host: front.hostname, port: front.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (req.method === 'GET' && !new URL(req.url ?? '/', 'http://proxy').searchParams.has('uploadId')) {
        answer.on('data', (chunk: Buffer) => (readBack += chunk.length));
      }
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  work = await mkdtemp(join(tmpdir(), 'arca-async-verify-'));
  proxy = await countingProxy(() => new URL(registry!.s3Url));
  registry = await startLocal({
    dataDir: join(work, 'registry'),
    port: 0,
    inMemory: true,
    env: {
      ARCA_INLINE_VERIFY_MAX_BYTES: String(MIB),
      ARCA_MULTIPART_THRESHOLD: String(5 * MIB),
      ARCA_S3_ENDPOINT: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    },
    onError: (error) => failures.push(error),
  });
  // s3rver itself, past the front: what the front cannot see.
  store = new S3Client({ endpoint: registry.s3StoreUrl, forcePathStyle: true, region: 'us-east-1', credentials: registry.credentials });
  store.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers[UPSTREAM_TOKEN_HEADER] = registry!.s3StoreToken;
      return next(args);
    },
    { step: 'build' },
  );
  const created = await api('POST', '/v1/assets', { name: 'av/model', type: 'model' });
  expect(created.status).toBe(201);
});

afterAll(async () => {
  store?.destroy();
  await registry?.stop();
  await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
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
const commit = <T = VersionRecord>(v: string) => api<T>('POST', `${versionPath(v)}/commit`);
const split = (bytes: Buffer) => Array.from({ length: Math.ceil(bytes.length / PART) }, (_, i) => bytes.subarray(i * PART, (i + 1) * PART));

interface Upload {
  parts: Buffer[];
  /** Sends part `n` (1-based) to its presigned URL, through the front. */
  send(n: number): Promise<void>;
  /** Writes `body` as part `n` straight into s3rver, past the front. */
  sendPastFront(n: number, body: Buffer): Promise<void>;
}

/** Creates a version of one multipart file; its parts are sent by the caller. */
async function createUpload(version: string, bytes: Buffer, declared: Partial<FileDeclaration> = {}): Promise<Upload> {
  const parts = split(bytes);
  const created = await api('POST', '/v1/assets/av/model/-/versions', {
    version,
    files: [{ path: 'weights.bin', size: bytes.length, sha256: sha256hex(bytes), parts: parts.map(sha256hex), ...declared }],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const multipart = created.body.files[0]!.multipart!;
  const key = decodeURIComponent(new URL(multipart.parts[0]!.url).pathname).slice(`/${registry!.bucket}/`.length);
  return {
    parts,
    async send(n) {
      const part = multipart.parts[n - 1]!;
      const res = await fetch(part.url, { method: 'PUT', headers: part.headers, body: parts[n - 1] });
      expect(res.status, await res.text()).toBe(200);
    },
    async sendPastFront(n, body) {
      await store!.send(new UploadPartCommand({ Bucket: registry!.bucket, Key: key, UploadId: multipart.uploadId, PartNumber: n, Body: body }));
    },
  };
}

describe('commit of a multipart file (local mode)', () => {
  it('70 MiB in two parts: ready at commit, the object never read back, the download intact', async () => {
    const bytes = randomBytes(70 * MIB);
    const upload = await createUpload('1.0.0', bytes);
    await upload.send(1);
    await upload.send(2);

    const before = readBack;
    const committed = await commit('1.0.0');
    expect(committed).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(committed.body.files[0]!.verification).toBeUndefined();
    expect(readBack - before).toBe(0);

    const resolved = await api<ResolveResult>('GET', '/v1/resolve/av/model:1.0.0/weights.bin');
    const downloaded = Buffer.from(await (await fetch(resolved.body.files[0]!.url)).arrayBuffer());
    expect(sha256hex(downloaded)).toBe(sha256hex(bytes));
  });

  it('parts sent out of order and one sent twice: still ready at commit without a read', async () => {
    const bytes = randomBytes(70 * MIB);
    const upload = await createUpload('1.1.0', bytes);
    await upload.send(2);
    await upload.send(1);
    await upload.send(1);

    const before = readBack;
    expect(await commit('1.1.0')).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(readBack - before).toBe(0);
  });

  it('right parts under a wrong whole-file digest: 422 at commit, from the digest of the stored bytes, without a read', async () => {
    const bytes = randomBytes(6 * MIB);
    const upload = await createUpload('2.0.0', bytes, { sha256: sha256hex(randomBytes(8)) });
    await upload.send(1);

    const before = readBack;
    const refused = await commit<ErrorBody>('2.0.0');
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'ChecksumMismatch', details: { files: [{ path: 'weights.bin', reason: `stored bytes hash to ${sha256hex(bytes)}` }] } });
    expect(readBack - before).toBe(0);
    expect((await api('GET', versionPath('2.0.0'))).body.status).toBe('pending');
  });

  it('a part the front never saw: commit answers 202, the ObjectCreated job reads the object back and makes the version ready', async () => {
    const bytes = randomBytes(70 * MIB);
    const upload = await createUpload('3.0.0', bytes);
    await upload.send(1);
    await upload.sendPastFront(2, upload.parts[1]!);

    const before = readBack;
    expect(await commit('3.0.0')).toMatchObject({ status: 202, body: { status: 'pending', files: [{ path: 'weights.bin', verification: 'in-progress' }] } });
    await expect.poll(async () => (await api('GET', versionPath('3.0.0'))).body.status, { timeout: 30_000, interval: 100 }).toBe('ready');
    expect(readBack - before).toBe(bytes.length);
    expect(await commit('3.0.0')).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('a part changed in s3rver behind the front after it was verified: 202, the job reads the object back and rejects it, 422', async () => {
    const bytes = randomBytes(6 * MIB);
    const upload = await createUpload('4.0.0', bytes);
    await upload.send(1);
    const other = Buffer.from(bytes);
    other[0] = other[0]! ^ 0xff;
    await upload.sendPastFront(1, other);

    const before = readBack;
    expect((await commit('4.0.0')).status).toBe(202);
    await expect.poll(async () => (await commit('4.0.0')).status, { timeout: 30_000, interval: 100 }).toBe(422);
    expect(readBack - before).toBe(bytes.length);
    const refused = await commit<ErrorBody>('4.0.0');
    expect(refused.body.error).toMatchObject({ code: 'ChecksumMismatch', details: { files: [{ path: 'weights.bin', reason: `stored bytes hash to ${sha256hex(other)}` }] } });
    expect((await api('GET', versionPath('4.0.0'))).body.status).toBe('pending');
  });

  it('the client pushes a multipart file and returns the version ready', async () => {
    const src = join(work, 'big.bin');
    await writeFile(src, randomBytes(6 * MIB));
    const client = new ArcaClient({ url: registry!.url, token: registry!.token, cacheDir: join(work, 'cache'), multipartThreshold: 5 * MIB });
    try {
      const pushed = await client.push('av/model', [src], { version: '5.0.0' });
      expect(pushed.version).toMatchObject({ version: '5.0.0', status: 'ready' });
    } finally {
      client.close();
    }
  });
});
