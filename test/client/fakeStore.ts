/**
 * A tiny HTTP server for the SDK's unit tests: answers `GET /v1/resolve/{spec}` with a fixed version and
 * serves its blobs (whole or by Range) at the "presigned" URLs it hands out — enough to exercise download,
 * verification and the cache against real sockets, without the registry behind it.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ResolveResult } from '../../contract/schemas.ts';

export interface FakeFile {
  path: string;
  bytes: Buffer;
}

export interface FakeStore {
  url: string;
  /** Every request: method, path and Range header. */
  requests: { method: string; path: string; range?: string }[];
  /** Serve other bytes than declared for this path (a corrupt or tampered store). */
  tamper: Set<string>;
  /** Answer 500 to every ranged GET of this path past its first range (a store failing mid-download). */
  failRanges: Set<string>;
  /** Hold back the answer to a GET from byte 0 of this path for this many ms: the later ranges land first. */
  slowFirst: Map<string, number>;
  /** Drop the connection half-way through the next GET of this path (once). */
  dropOnce: Set<string>;
  /** Serve the range starting at this offset of this path with one byte changed (a corrupt range). */
  corruptRange: Map<string, number>;
  close(): Promise<void>;
}

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export async function startFakeStore(asset: string, version: string, files: FakeFile[]): Promise<FakeStore> {
  const requests: FakeStore['requests'] = [];
  const tamper = new Set<string>();
  const failRanges = new Set<string>();
  const slowFirst = new Map<string, number>();
  const dropOnce = new Set<string>();
  const corruptRange = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({ method: req.method ?? '', path, range: req.headers.range });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (path.startsWith('/v1/resolve/')) {
      const spec = decodeURIComponent(path.slice('/v1/resolve/'.length));
      const sub = spec.split(':')[1]?.split('/').slice(1).join('/');
      const body: ResolveResult = {
        asset,
        version,
        status: 'ready',
        aliases: [],
        files: files
          .filter((f) => !sub || f.path === sub || f.path.startsWith(`${sub}/`))
          .map((f) => ({ path: f.path, size: f.bytes.length, sha256: sha256(f.bytes), format: 'bin', url: `${base}/blob/${encodeURIComponent(f.path)}?X-Amz-Signature=x` })),
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    if (path === '/v1/assets' && req.method === 'GET') {
      if (req.headers.authorization !== 'Bearer t') return void res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'Unauthorized', message: 'bad token', requestId: 'req-2' } }));
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: [] }));
    }
    if (path.startsWith('/blob/')) {
      const file = files.find((f) => f.path === decodeURIComponent(path.slice('/blob/'.length)));
      if (!file) return void res.writeHead(404).end('<Error><Code>NoSuchKey</Code></Error>');
      let bytes = file.bytes;
      if (tamper.has(file.path)) {
        bytes = Buffer.from(bytes);
        bytes[bytes.length - 1] = (bytes[bytes.length - 1]! + 1) % 256;
      }
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (m && Number(m[1]) > 0 && failRanges.has(file.path)) return void res.writeHead(500).end('<Error><Code>InternalError</Code></Error>');
      const from = m ? Number(m[1]) : 0;
      let slice = m ? bytes.subarray(from, Number(m[2]) + 1) : bytes;
      if (corruptRange.get(file.path) === from) {
        slice = Buffer.from(slice);
        slice[0] = slice[0]! ^ 0xff;
      }
      const send = () => {
        res.writeHead(m ? 206 : 200, { 'content-length': slice.length, ...(m ? { 'content-range': `bytes ${m[1]}-${m[2]}/${bytes.length}` } : {}) });
        if (dropOnce.delete(file.path)) res.write(slice.subarray(0, slice.length >> 1), () => res.destroy());
        else res.end(slice);
      };
      const delay = from === 0 ? slowFirst.get(file.path) : undefined;
      if (delay === undefined) send();
      else setTimeout(send, delay);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NotFound', message: `no route ${path}`, requestId: 'req-1' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    tamper,
    failRanges,
    slowFirst,
    dropOnce,
    corruptRange,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
