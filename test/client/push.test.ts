/**
 * push's transfer rules against a scripted fake API and store: retries, fresh part URLs on 403, 412 as
 * "already stored", non-retryable failures, exact signed headers, creating a missing asset.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ArcaClient } from '../../client/client.ts';
import type { FileDeclaration } from '../../contract/schemas.ts';
import { sha256 } from './fakeStore.ts';

interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

let server: http.Server;
let base: string;
let seen: Seen[];
/** Status codes the store answers to successive PUTs on a path; then 200. */
let script: Map<string, number[]>;
let assetExists: boolean;
/** Commits to answer 500 before one succeeds (the server timed out verifying). */
let commitFailures: number;
/** Commits to answer 202 (pending: a large file still being hashed) before one answers ready. */
let commitsVerifying: number;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'arca-push-'));
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url!, 'http://x').pathname;
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, path, headers: req.headers, body });
      const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.method === 'PUT' && path.startsWith('/store/')) {
        const status = script.get(path)?.shift() ?? 200;
        return void res.writeHead(status).end(status === 200 ? '' : `<Error><Code>Code${status}</Code><Message>scripted</Message></Error>`);
      }
      if (path === '/v1/assets' && req.method === 'POST') {
        assetExists = true;
        return json(201, { name: JSON.parse(body.toString()).name });
      }
      if (path.endsWith('/-/versions') && req.method === 'POST') {
        if (!assetExists) return json(404, { error: { code: 'NotFound', message: 'no such asset', requestId: 'r' } });
        const files = (JSON.parse(body.toString()) as { files: FileDeclaration[] }).files.map((f) =>
          f.parts
            ? { ...f, format: 'bin', multipart: { uploadId: 'u1', partSize: 64 * 1024 * 1024, parts: [{ partNumber: 1, url: `${base}/store/${f.path}/part1`, headers: { 'x-amz-checksum-sha256': 'part-sum' } }] } }
            : f.path === 'present.txt'
              ? { ...f, format: 'txt', state: 'present' }
              : { ...f, format: 'txt', upload: { method: 'PUT', url: `${base}/store/${f.path}`, headers: { 'x-amz-checksum-sha256': 'file-sum', 'if-none-match': '*' } } },
        );
        return json(201, { asset: 'a/b', version: '1.0.0', status: 'pending', files });
      }
      if (path.endsWith('/uploads/u1/parts')) {
        const { from } = JSON.parse(body.toString()) as { from: number };
        return json(200, { uploadId: 'u1', partSize: 64 * 1024 * 1024, parts: [{ partNumber: from, url: `${base}/store/fresh/part${from}`, headers: {} }] });
      }
      if (path.endsWith('/commit') && commitFailures > 0) {
        commitFailures--;
        return json(500, { error: { code: 'Internal', message: 'internal error', requestId: 'r' } });
      }
      if (path.endsWith('/commit') && commitsVerifying > 0) {
        commitsVerifying--;
        return json(202, { asset: 'a/b', version: '1.0.0', status: 'pending', files: [{ path: 'model.txt', verification: 'in-progress' }] });
      }
      if (path.endsWith('/commit')) return json(200, { asset: 'a/b', version: '1.0.0', status: 'ready', files: [] });
      json(404, { error: { code: 'NotFound', message: `no ${path}`, requestId: 'r' } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  seen = [];
  script = new Map();
  assetExists = true;
  commitFailures = 0;
  commitsVerifying = 0;
});

const client = (opts: { threshold?: number } = {}) =>
  new ArcaClient({ url: base, token: 't', cacheDir: join(dir, 'cache'), multipartThreshold: opts.threshold });
const puts = () => seen.filter((s) => s.method === 'PUT').map((s) => s.path);

async function file(name: string, content: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, content);
  return p;
}

describe('push transfer rules', () => {
  it('sends exactly the signed headers with the right Content-Length, and skips files the store has', async () => {
    const c = client();
    const r = await c.push('a/b', [await file('model.txt', 'weights'), await file('present.txt', 'already there')]);
    expect(r).toMatchObject({ uploaded: 7, skipped: 13, version: { status: 'ready' } });
    const put = seen.find((s) => s.method === 'PUT')!;
    expect(put).toMatchObject({ path: '/store/model.txt', body: Buffer.from('weights') });
    expect(put.headers).toMatchObject({ 'content-length': '7', 'x-amz-checksum-sha256': 'file-sum', 'if-none-match': '*' });
    expect(puts()).toEqual(['/store/model.txt']);
    c.close();
  });

  it('declares the SHA-256 (and, above the threshold, the part digests) it computed while reading', async () => {
    const c = client({ threshold: 4 });
    await c.push('a/b', [await file('big.bin', 'more than four bytes')]);
    const declared = JSON.parse(seen.find((s) => s.path.endsWith('/-/versions'))!.body.toString()) as { files: FileDeclaration[] };
    expect(declared.files).toEqual([{ path: 'big.bin', size: 20, sha256: sha256('more than four bytes'), parts: [sha256('more than four bytes')] }]);
    c.close();
  });

  it('retries a PUT that failed with a 5xx', async () => {
    script.set('/store/model.txt', [500, 503]);
    const c = client();
    const r = await c.push('a/b', [await file('model.txt', 'weights')]);
    expect(r.version.status).toBe('ready');
    expect(puts()).toEqual(['/store/model.txt', '/store/model.txt', '/store/model.txt']);
    c.close();
  });

  it('asks for a fresh part URL when one is refused (expired) and carries on', async () => {
    script.set('/store/big.bin/part1', [403]);
    const c = client({ threshold: 4 });
    const r = await c.push('a/b', [await file('big.bin', 'multipart bytes')]);
    expect(r.version.status).toBe('ready');
    expect(puts()).toEqual(['/store/big.bin/part1', '/store/fresh/part1']);
    const refresh = seen.find((s) => s.path.endsWith('/uploads/u1/parts'))!;
    expect(JSON.parse(refresh.body.toString())).toEqual({ from: 1 });
    expect(seen.find((s) => s.path === '/store/big.bin/part1')!.headers['x-amz-checksum-sha256']).toBe('part-sum');
    c.close();
  });

  it('takes 412 on a create-only PUT as "the bytes are already stored"', async () => {
    script.set('/store/model.txt', [412]);
    const c = client();
    expect((await c.push('a/b', [await file('model.txt', 'weights')])).version.status).toBe('ready');
    c.close();
  });

  it('fails on a non-retryable answer without committing, naming the S3 error', async () => {
    script.set('/store/model.txt', [400]);
    const c = client();
    await expect(c.push('a/b', [await file('model.txt', 'weights')])).rejects.toThrow(/answered 400: Code400: scripted/);
    expect(puts()).toHaveLength(1);
    expect(seen.some((s) => s.path.endsWith('/commit'))).toBe(false);
    c.close();
  });

  it('asks again for a commit that failed on the server side (a verification outlasting one request)', async () => {
    commitFailures = 1;
    const c = client();
    expect((await c.push('a/b', [await file('model.txt', 'weights')])).version.status).toBe('ready');
    expect(seen.filter((s) => s.path.endsWith('/commit'))).toHaveLength(2);
    c.close();
  });

  it('commits again after a 202 (the service still hashing a large file) until the version is ready', async () => {
    commitsVerifying = 2;
    const c = client();
    expect((await c.push('a/b', [await file('model.txt', 'weights')])).version.status).toBe('ready');
    expect(seen.filter((s) => s.path.endsWith('/commit'))).toHaveLength(3);
    c.close();
  });

  it('creates the asset (with the given type) when the first push finds none', async () => {
    assetExists = false;
    const c = client();
    await c.push('a/b', [await file('model.txt', 'weights')], { type: 'dataset' });
    const create = seen.find((s) => s.path === '/v1/assets')!;
    expect(JSON.parse(create.body.toString())).toEqual({ name: 'a/b', type: 'dataset' });
    expect(seen.filter((s) => s.path.endsWith('/-/versions')).map((s) => s.headers['idempotency-key'])).toEqual([expect.any(String), expect.any(String)]);
    c.close();
  });

  it('refuses two inputs that would land on the same path', async () => {
    const c = client();
    await rm(join(dir, 'x'), { recursive: true, force: true });
    await mkdir(join(dir, 'x'), { recursive: true });
    await writeFile(join(dir, 'x', 'model.txt'), 'other');
    await expect(c.push('a/b', [await file('model.txt', 'weights'), join(dir, 'x')])).rejects.toThrow(/same path "model.txt"/);
    c.close();
  });
});

describe('digest memory', () => {
  it('does not read unchanged files again on the next push, and hashes a file again once it changed', async () => {
    const c = client();
    const path = await file('dataset.csv', 'a,b\n1,2\n');
    const hashedBytes = async () => {
      let n = 0;
      await c.push('a/b', [path], { onProgress: (p) => p.phase === 'hash' && (n = p.done) });
      return n;
    };
    expect(await hashedBytes()).toBe(8);
    expect(await hashedBytes()).toBe(0);
    await writeFile(path, 'a,b\n3,4\n'); // same size, other bytes
    expect(await hashedBytes()).toBe(8);
    const declared = seen.filter((s) => s.path.endsWith('/-/versions')).map((s) => (JSON.parse(s.body.toString()) as { files: FileDeclaration[] }).files[0]!.sha256);
    expect(declared).toEqual([sha256('a,b\n1,2\n'), sha256('a,b\n1,2\n'), sha256('a,b\n3,4\n')]);
    c.close();
  });
});
