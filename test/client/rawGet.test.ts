/**
 * pull's GET reader (client/rawGet.ts) through `Transfers.get`, against real servers on loopback: node:http,
 * raw TCP servers that send exactly the bytes a case needs, and TLS with a certificate made for the test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dechunk, parseHead } from '../../client/rawGet.ts';
import { TransferError, Transfers } from '../../client/transfer.ts';

const body = Buffer.alloc(3 * 1024 * 1024 + 11);
for (let i = 0; i < body.length; i += 4) body.writeUInt32BE(i >>> 0, Math.min(i, body.length - 4));

interface Served {
  url: string;
  connections: () => number;
  requests: http.IncomingHttpHeaders[];
  close: () => Promise<void>;
}

async function listen(server: net.Server, scheme: string, requests: http.IncomingHttpHeaders[] = []): Promise<Served> {
  let connections = 0;
  server.on(scheme === 'https' ? 'secureConnection' : 'connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://127.0.0.1:${port}/bucket/key?X-Amz-Signature=abc`,
    connections: () => connections,
    requests,
    close: () => {
      (server as http.Server).closeAllConnections?.();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** node:http serving `body` as S3 does: 200 whole, 206 for a Range, Content-Length on both. */
function objectHandler(requests: http.IncomingHttpHeaders[]) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    requests.push(req.headers);
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    const slice = m ? body.subarray(Number(m[1]), Number(m[2]) + 1) : body;
    res.writeHead(m ? 206 : 200, { 'content-length': slice.length });
    res.end(slice);
  };
}

function objectServer(): Promise<Served> {
  const requests: http.IncomingHttpHeaders[] = [];
  return listen(http.createServer(objectHandler(requests)), 'http', requests);
}

/** A TCP server that answers each connection with `answer`, for responses node:http would not send. */
function tcpServer(answer: (socket: net.Socket) => void): Promise<Served> {
  return listen(
    net.createServer((socket) => {
      socket.once('data', () => answer(socket));
      socket.on('error', () => undefined);
    }),
    'http',
  );
}

async function collect(t: Transfers, url: string, range = { start: 0, end: body.length }, opts: { whole?: boolean; signal?: AbortSignal } = {}) {
  const chunks: Buffer[] = [];
  const error = await t
    .get(url, range, { whole: opts.whole ?? (range.start === 0 && range.end === body.length), signal: opts.signal, onChunk: (c) => void chunks.push(Buffer.from(c)) })
    .then(() => undefined, (e: unknown) => e);
  return { error, bytes: Buffer.concat(chunks) };
}

let dir: string;
let cert: Buffer;
let key: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'arca-rawget-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  [cert, key] = await Promise.all([readFile(join(dir, 'cert.pem')), readFile(join(dir, 'key.pem'))]);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the raw GET reader', () => {
  it('reads a 200 whole and a 206 range, counts the bytes, and keeps one connection alive for all GETs', async () => {
    const server = await objectServer();
    const t = new Transfers(4);
    const whole = await collect(t, server.url);
    expect(whole.error).toBeUndefined();
    expect(whole.bytes.equals(body)).toBe(true);
    const range = { start: 1_000_003, end: 2_500_000 };
    for (let i = 0; i < 3; i++) {
      const part = await collect(t, server.url, range);
      expect(part.error).toBeUndefined();
      expect(part.bytes.equals(body.subarray(range.start, range.end))).toBe(true);
    }
    expect(server.requests.map((h) => h.range)).toEqual([undefined, 'bytes=1000003-2499999', 'bytes=1000003-2499999', 'bytes=1000003-2499999']);
    expect(t.stats.bytesDownloaded).toBe(body.length + 3 * (range.end - range.start));
    expect(t.raw.connections).toBe(1);
    expect(server.connections()).toBe(1);
    t.close();
    await server.close();
  });

  it('parses a head split across reads, down to one byte a read', async () => {
    const payload = body.subarray(0, 5000);
    const head = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${payload.length}\r\nX-Amz-Request-Id: r1\r\n\r\n`);
    const server = await tcpServer(async (socket) => {
      socket.setNoDelay(true);
      for (const byte of head) {
        socket.write(Buffer.of(byte));
        await new Promise((r) => setTimeout(r, 1));
      }
      socket.write(payload);
    });
    const t = new Transfers(1);
    const got = await collect(t, server.url, { start: 0, end: payload.length }, { whole: true });
    expect(got.error).toBeUndefined();
    expect(got.bytes.equals(payload)).toBe(true);
    t.close();
    await server.close();
  });

  it('fails a body cut short with a retryable TransferError, after handing on what came', async () => {
    const server = await tcpServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
      socket.end(body.subarray(0, 500));
    });
    const t = new Transfers(1);
    const got = await collect(t, server.url, { start: 0, end: 1000 }, { whole: true });
    expect(got.error).toBeInstanceOf(TransferError);
    expect((got.error as TransferError).message).toMatch(/the connection closed after 500 of 1000 bytes/);
    expect((got.error as TransferError).retryable).toBe(true);
    expect(got.bytes.equals(body.subarray(0, 500))).toBe(true);
    t.close();
    await server.close();
  });

  it('refuses a body longer than the range, and does not reuse a connection that sent bytes past its body', async () => {
    const longer = await tcpServer((socket) => socket.end(Buffer.concat([Buffer.from('HTTP/1.1 206 Partial Content\r\nContent-Length: 1000\r\n\r\n'), body.subarray(0, 1000)])));
    const t = new Transfers(1);
    const got = await collect(t, longer.url, { start: 0, end: 800 });
    expect((got.error as TransferError).message).toMatch(/sent more than the 800 bytes expected/);
    await longer.close();

    const extra = await tcpServer((socket) => {
      socket.on('data', () => socket.write('HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\n\r\n0123456789junk'));
      socket.write('HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\n\r\n0123456789junk');
    });
    for (let i = 0; i < 2; i++) {
      const ok = await collect(t, extra.url, { start: 0, end: 10 });
      expect(ok.error).toBeUndefined();
      expect(ok.bytes.toString()).toBe('0123456789');
    }
    expect(extra.connections()).toBe(2);
    t.close();
    await extra.close();
  });

  it('falls back to node:http for a chunked object body, and for a proxy in the environment', async () => {
    const requests: http.IncomingHttpHeaders[] = [];
    const chunked = await listen(
      http.createServer((req, res) => {
        requests.push(req.headers);
        res.writeHead(200, { 'transfer-encoding': 'chunked' });
        res.write(body.subarray(0, 1000));
        res.end(body.subarray(1000, 3000));
      }),
      'http',
      requests,
    );
    const t = new Transfers(2);
    const got = await collect(t, chunked.url, { start: 0, end: 3000 }, { whole: true });
    expect(got.error).toBeUndefined();
    expect(got.bytes.equals(body.subarray(0, 3000))).toBe(true);
    expect(requests).toHaveLength(2); // the raw reader's, answered chunked, then node:http's
    expect(t.raw.connections).toBe(1);
    await chunked.close();

    const plain = await objectServer();
    process.env.HTTPS_PROXY = 'http://127.0.0.1:9';
    try {
      const proxied = await collect(t, plain.url);
      expect(proxied.error).toBeUndefined();
      expect(proxied.bytes.equals(body)).toBe(true);
    } finally {
      delete process.env.HTTPS_PROXY;
    }
    expect(t.raw.connections).toBe(1);
    t.close();
    await plain.close();
  });

  it('reports an error status with the S3 XML message and status, whether the error body has a length or comes chunked', async () => {
    const xml = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>';
    let requests = 0;
    const server = await listen(
      http.createServer((req, res) => {
        requests++;
        if (req.headers.range) res.writeHead(500).end('<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>'); // chunked: writeHead before the body
        else res.writeHead(403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) }).end(xml);
      }),
      'http',
    );
    const t = new Transfers(1);
    const denied = (await collect(t, server.url, { start: 0, end: 10 }, { whole: true })).error as TransferError;
    expect(denied).toBeInstanceOf(TransferError);
    expect(denied.message).toBe(`GET ${server.url.split('?')[0]} answered 403: AccessDenied: Request has expired`);
    expect(denied.status).toBe(403);
    expect(denied.retryable).toBe(false);
    const failed = (await collect(t, server.url, { start: 5, end: 10 })).error as TransferError;
    expect(failed.message).toBe(`GET ${server.url.split('?')[0]} answered 500: InternalError: We encountered an internal error.`);
    expect(failed.status).toBe(500);
    expect(failed.retryable).toBe(true);
    expect(requests).toBe(2);
    t.close();
    await server.close();
  });

  it('sends a GET again on a new connection when the server closed the kept-alive one', async () => {
    const requests: http.IncomingHttpHeaders[] = [];
    const server = http.createServer(objectHandler(requests));
    const served = await listen(server, 'http', requests);
    const t = new Transfers(1);
    expect((await collect(t, served.url, { start: 0, end: 100 })).error).toBeUndefined();
    server.closeIdleConnections();
    const again = await collect(t, served.url, { start: 100, end: 200 });
    expect(again.error).toBeUndefined();
    expect(again.bytes.equals(body.subarray(100, 200))).toBe(true);
    expect(served.connections()).toBe(2);
    t.close();
    await served.close();
  });

  it('stops on abort with the signal’s reason, and closes the connection', async () => {
    let closed = false;
    const server = await tcpServer((socket) => {
      socket.on('close', () => (closed = true));
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      socket.write(body.subarray(0, 1000));
    });
    const t = new Transfers(1);
    const controller = new AbortController();
    const reason = new Error('the user pressed ^C');
    const error = await t
      .get(server.url, { start: 0, end: body.length }, { whole: true, signal: controller.signal, onChunk: () => void controller.abort(reason) })
      .catch((e: unknown) => e);
    expect(error).toBe(reason);
    await expect.poll(() => closed).toBe(true);
    t.close();
    await server.close();
  });

  it('stops a GET waiting for a connection (all maxSockets busy) as soon as it is aborted, and the queue goes on', async () => {
    let first: net.Socket | undefined;
    const server = await tcpServer((socket) => {
      first ??= socket;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n`);
      if (socket !== first) socket.write('done');
    });
    const t = new Transfers(1);
    const holding = collect(t, server.url, { start: 0, end: 4 }, { whole: true });
    await expect.poll(() => first !== undefined).toBe(true);
    const controller = new AbortController();
    const reason = new Error('the user pressed ^C');
    const waiting = collect(t, server.url, { start: 0, end: 4 }, { whole: true, signal: controller.signal });
    const after = collect(t, server.url, { start: 0, end: 4 }, { whole: true });
    controller.abort(reason);
    expect((await waiting).error).toBe(reason);
    first!.end('held');
    expect((await holding).bytes.toString()).toBe('held');
    expect(await after).toEqual({ error: undefined, bytes: Buffer.from('done') });
    t.close();
    await server.close();
  });

  it('fails a GET on which nothing moves for the idle timeout', async () => {
    const server = await tcpServer((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123'));
    const t = new Transfers(1, { idleTimeoutMs: 300 });
    const got = await collect(t, server.url, { start: 0, end: 100 }, { whole: true });
    expect(got.error).toBeInstanceOf(TransferError);
    expect((got.error as TransferError).message).toBe('no progress for 0.3 s');
    expect((got.error as TransferError).retryable).toBe(true);
    expect(got.bytes.toString()).toBe('0123');
    t.close();
    await server.close();
  });

  it('reads over TLS a certificate it trusts, and refuses one it does not', async () => {
    const requests: http.IncomingHttpHeaders[] = [];
    const served = await listen(https.createServer({ cert, key }, objectHandler(requests)), 'https', requests);
    const trusting = new Transfers(2, { ca: cert });
    for (const url of [served.url, served.url.replace('127.0.0.1', 'localhost')]) {
      const got = await collect(trusting, url);
      expect(got.error).toBeUndefined();
      expect(got.bytes.equals(body)).toBe(true);
    }
    expect(trusting.raw.connections).toBe(2);
    trusting.close();

    const strict = new Transfers(1);
    const refused = await collect(strict, served.url, { start: 0, end: 10 });
    expect(refused.error).toBeInstanceOf(TransferError);
    expect((refused.error as TransferError).message).toMatch(/self-signed certificate/);
    expect(refused.bytes.length).toBe(0);
    strict.close();
    await served.close();
  });
});

describe('parseHead', () => {
  it.each([
    ['HTTP/1.1 200 OK\r\nContent-Length: 12', { status: 200, length: 12, chunked: false, close: false }],
    ['HTTP/1.1 206 Partial Content\r\ncontent-LENGTH:  7 \r\nCONNECTION: Close', { status: 206, length: 7, chunked: false, close: true }],
    ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5, 5', { status: 200, length: 5, chunked: false, close: false }],
    ['HTTP/1.0 200 OK\r\nContent-Length: 5', { status: 200, length: 5, chunked: false, close: true }],
    ['HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive', { status: 200, length: 5, chunked: false, close: false }],
    ['HTTP/1.1 200', { status: 200, length: undefined, chunked: false, close: false }],
    ['HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked', { status: 500, length: undefined, chunked: true, close: false }],
    ['HTTP/1.1 100 Continue', undefined],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked', undefined],
  ])('%j', (head, parsed) => {
    expect(parseHead(head)).toEqual(parsed);
  });

  it.each([
    ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6', /content-lengths differ/],
    ['HTTP/1.1 200 OK\r\nContent-Length: 5, 6', /content-lengths differ/],
    ['HTTP/1.1 200 OK\r\nContent-Length: -5', /bad content-length/],
    ['HTTP/1.1 200 OK\r\nX-Long: a\r\n b\r\nContent-Length: 5', /obs-fold/],
    ['HTTP/1.1 200 OK\r\nBad Name: x', /malformed header line/],
    ['HTTP/2 200', /malformed status line/],
    ['ICY 200 OK', /malformed status line/],
  ])('refuses %j', (head, why) => {
    expect(() => parseHead(head)).toThrow(why);
  });
});

describe('dechunk', () => {
  it('joins the chunks once the last has come, and waits until then', () => {
    const whole = Buffer.from('5\r\n<Erro\r\n3;ext=1\r\nr/>\r\n0\r\n\r\n');
    expect(dechunk(whole)).toBe('<Error/>');
    for (let cut = 0; cut < whole.length; cut++) expect(dechunk(whole.subarray(0, cut))).toBeUndefined();
    expect(dechunk(Buffer.from('2\r\nab\r\n0\r\nx-trailer: 1\r\n\r\n'))).toBe('ab');
    expect(() => dechunk(Buffer.from('zz\r\n'))).toThrow(/malformed chunk size/);
  });
});
