/**
 * The do-nothing S3 sink of bench/transfer.ts: the loopback ceiling. Run as its own process so that its
 * CPU and memory never count against a client. It speaks just enough S3 for the AWS SDK and awscli
 * (PutObject, multipart create/part/complete, HeadObject, ranged GetObject) and just enough of the Arca
 * API for `ArcaClient.push`/`pull` (create version → part URLs here → commit; resolve → a GET here).
 * Uploaded bytes are counted and dropped; downloads serve the bench file from memory.
 *
 * Usage: node bench/transfer-sink.ts FILE SHA256 — prints `{"url": …}` on stdout once listening.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const [file, sha256] = process.argv.slice(2);
if (!file || !sha256) throw new Error('usage: transfer-sink.ts FILE SHA256');
const bytes = readFileSync(file);
const MIB = 1024 * 1024;
let received = 0;

const xml = (res: http.ServerResponse, body: string) =>
  res.writeHead(200, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
const json = (res: http.ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

/** Drains a request body, counting it, then answers. */
function drain(req: http.IncomingMessage, done: () => void): void {
  req.on('data', (c: Buffer) => (received += c.length));
  req.on('end', done);
}

function serveBytes(req: http.IncomingMessage, res: http.ServerResponse): void {
  const headers = { 'content-type': 'application/octet-stream', etag: '"bench"', 'last-modified': new Date(0).toUTCString(), 'accept-ranges': 'bytes' };
  if (req.method === 'HEAD') return void res.writeHead(200, { ...headers, 'content-length': bytes.length }).end();
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (!m) return void res.writeHead(200, { ...headers, 'content-length': bytes.length }).end(bytes);
  const start = Number(m[1]);
  const end = m[2] ? Math.min(Number(m[2]), bytes.length - 1) : bytes.length - 1;
  res.writeHead(206, { ...headers, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${bytes.length}` }).end(bytes.subarray(start, end + 1));
}

const versionRecord = (files: unknown[], status: string) => ({
  asset: 'bench/file', version: '1.0.0', status, files, formats: ['bin'], size: bytes.length, tags: [], records: [], paramsHash: '', aliases: [],
  createdAt: new Date().toISOString(), createdBy: 'bench', updatedAt: new Date().toISOString(), etag: '"1"',
});

interface Declared { path: string; size: number; sha256: string; parts?: string[] }

const server = http.createServer({ highWaterMark: MIB }, (req, res) => {
  const url = new URL(req.url ?? '/', 'http://sink');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const partUrls = (from: number, size: number, partSize: number) => {
    const count = Math.max(1, Math.ceil(size / partSize));
    return Array.from({ length: count - from + 1 }, (_, i) => ({ partNumber: from + i, url: `${base}/sink/part?partNumber=${from + i}`, headers: {} }));
  };

  // ---- the Arca API, just what push and pull call ----
  if (url.pathname.startsWith('/v1/')) {
    if (req.method === 'GET' && url.pathname.startsWith('/v1/resolve/')) {
      return json(res, 200, { asset: 'bench/file', version: '1.0.0', status: 'ready', aliases: [], files: [{ path: 'file.bin', size: bytes.length, sha256, format: 'bin', url: `${base}/sink/object` }] });
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as { files?: Declared[]; from?: number }) : {};
      if (url.pathname.endsWith('/-/versions') && req.method === 'POST') {
        const files = (body.files ?? []).map((f) =>
          f.parts
            ? { ...f, format: 'bin', multipart: { uploadId: 'u1', partSize: Math.ceil(f.size / f.parts.length / MIB) * MIB, parts: partUrls(1, f.size, Math.ceil(f.size / f.parts.length / MIB) * MIB) } }
            : { ...f, format: 'bin', upload: { method: 'PUT', url: `${base}/sink/object`, headers: {} } },
        );
        return json(res, 201, versionRecord(files, 'pending'));
      }
      if (url.pathname.endsWith('/parts')) return json(res, 200, { uploadId: 'u1', partSize: 64 * MIB, parts: partUrls(body.from ?? 1, bytes.length, 64 * MIB) });
      if (url.pathname.endsWith('/commit')) return json(res, 200, versionRecord([{ path: 'file.bin', size: bytes.length, sha256, format: 'bin' }], 'ready'));
      return json(res, 404, { error: { code: 'NotFound', message: `sink: no ${req.method} ${url.pathname}`, requestId: 'sink' } });
    });
    return;
  }

  // ---- S3 ----
  if (url.pathname === '/_received') return json(res, 200, { received });
  if (req.method === 'GET' || req.method === 'HEAD') return serveBytes(req, res);
  if (req.method === 'PUT') return drain(req, () => res.writeHead(200, { etag: '"part"' }).end());
  if (req.method === 'POST' && url.searchParams.has('uploads')) {
    return drain(req, () => xml(res, `<InitiateMultipartUploadResult><Bucket>bench</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>`));
  }
  if (req.method === 'POST' && url.searchParams.has('uploadId')) {
    return drain(req, () => xml(res, `<CompleteMultipartUploadResult><Location>${base}${url.pathname}</Location><Bucket>bench</Bucket><Key>k</Key><ETag>"done"</ETag></CompleteMultipartUploadResult>`));
  }
  res.writeHead(400).end();
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
