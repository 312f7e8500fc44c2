/**
 * Presigned object GETs (pull's downloads) read straight off `net` / `tls` sockets with `onread`: the kernel
 * copies each read into memory this module owns, successive regions of a few large slabs, and the body is
 * handed on as views of them. node:http allocates a Buffer per 64 KiB read and runs a stream per chunk; at a
 * GiB that is ~1.2 CPU s, against ~0.2 s this way, which is what leaves room for the SHA-256 (0.6 s/GiB).
 *
 * Deliberately narrow: `GET` only; an object body only with a `Content-Length` and no `Transfer-Encoding`; a
 * head of at most 16 KiB; an error body (its S3 XML, with a length or chunked) of at most 64 KiB. Anything else
 * is answered `undefined` before a body byte was handed on, and the caller asks node:http instead. A bug here
 * can only fail a pull: every byte is still hashed and the file verified by the landing.
 */
import net from 'node:net';
import tls from 'node:tls';

const MIB = 1024 * 1024;
/**
 * Reads land in slabs of this size, a read taking what is left of one (≈ 1 MiB a read on loopback). 1 MiB, the
 * landing's write batch: with 4 MiB slabs (multi-MiB reads and writes) the same GiB pulled cost ≈ 1.3 CPU s
 * more in the kernel here, 512 KiB and 2 MiB measured as 1 MiB did. A landing holds ~3 MiB of a range, so ~4 a socket.
 */
const SLAB = MIB;
/** A slab with less than this left is retired: a read smaller than the socket's 64 KiB would only cost calls. */
const MIN_READ = 64 * 1024;
const MAX_HEAD = 16 * 1024;
const MAX_ERROR_BODY = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

/** Where the body goes, and how failures are worded: the caller's errors, so both paths fail alike. */
export interface BodySink {
  /** Takes the next piece of the body; a promise holds the socket until it settles. A throw ends the GET with that error. */
  take(chunk: Buffer): Promise<void> | undefined;
  /** The connection closed before the body's last byte. */
  cutShort(): Error;
  /** A socket, protocol or timeout failure, or the signal's abort. */
  broken(err: unknown): Error;
}

export interface RawGetOptions {
  maxSockets: number;
  idleTimeoutMs: number;
  /** Extra trust for TLS (a private CA); verification itself is as node:https does it. */
  ca?: tls.ConnectionOptions['ca'];
}

interface Head {
  status: number;
  /** Undefined when `chunked` or when the body runs to the connection's close. */
  length: number | undefined;
  chunked: boolean;
  close: boolean;
}

/**
 * Hands `chunk` to `sink`: true when the source may go straight on; else the source is paused (or the sink
 * threw) and `next` or `fail` runs once the sink has settled.
 */
export function feed(sink: BodySink, chunk: Buffer, pause: () => void, next: () => void, fail: (err: unknown) => void): boolean {
  let wait: Promise<void> | undefined;
  try {
    wait = sink.take(chunk);
  } catch (err) {
    fail(err);
    return false;
  }
  if (!wait) return true;
  pause();
  wait.then(next, fail);
  return false;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The parts of a response head this reader acts on, or undefined when the response is outside its scope
 * (an interim 1xx, a transfer coding other than a lone `chunked`). Throws on what no correct server sends: a
 * body length read two ways (request smuggling's tool), or an obs-fold, which RFC 9112 lets a client reject.
 */
export function parseHead(text: string): Head | undefined {
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?$/.exec(lines[0]!);
  if (!status) throw new Error(`malformed status line ${JSON.stringify(lines[0]!.slice(0, 80))}`);
  const code = Number(status[2]);
  if (code < 200) return undefined;
  // HTTP/1.0 closes after each response unless told otherwise; 1.1 keeps the connection unless told otherwise.
  let close = status[1] === '0';
  let length: number | undefined;
  let chunked = false;
  for (const line of lines.slice(1)) {
    if (line.startsWith(' ') || line.startsWith('\t')) throw new Error('obs-fold in the response head');
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) throw new Error(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    switch (name.toLowerCase()) {
      case 'content-length':
        for (const item of value.split(',')) {
          const n = /^[ \t]*(\d{1,15})[ \t]*$/.exec(item)?.[1];
          if (n === undefined) throw new Error(`bad content-length ${JSON.stringify(value)}`);
          if (length !== undefined && length !== Number(n)) throw new Error(`content-lengths differ (${length}, ${n})`);
          length = Number(n);
        }
        break;
      case 'transfer-encoding':
        if (chunked || value.toLowerCase() !== 'chunked') return undefined;
        chunked = true;
        break;
      case 'connection': {
        const tokens = value.toLowerCase().split(',').map((t) => t.trim());
        if (tokens.includes('close')) close = true;
        else if (tokens.includes('keep-alive')) close = false;
        break;
      }
    }
  }
  // With both, the transfer coding decides the body's end (RFC 9112 §6.3) and the connection is not kept.
  return chunked ? { status: code, length: undefined, chunked, close: close || length !== undefined } : { status: code, length, chunked, close };
}

/**
 * The text of a whole chunked body, or undefined while its last chunk has not arrived. Only for error bodies
 * (S3 sends its XML errors chunked), which are small: the body path takes a Content-Length only.
 */
export function dechunk(body: Buffer): string | undefined {
  const parts: Buffer[] = [];
  for (let at = 0; ; ) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = /^([0-9a-fA-F]{1,8})[ \t]*(?:;.*)?$/.exec(body.subarray(at, eol).toString('latin1'))?.[1];
    if (size === undefined) throw new Error('malformed chunk size line');
    const n = parseInt(size, 16);
    // The last chunk: done at the blank line that ends its trailers (none: the CRLF right after its size line).
    if (n === 0) return body.indexOf(HEAD_END, eol) >= 0 ? Buffer.concat(parts).toString('utf8') : undefined;
    if (body.length < eol + 2 + n + 2) return undefined;
    parts.push(body.subarray(eol + 2, eol + 2 + n));
    at = eol + 2 + n + 2;
  }
}

/**
 * Slabs handed out region by region. A body byte is lent to the sink until `release`; a slab goes back to the
 * free list once its socket has moved on from it and none of its bytes are lent. A sink that never releases
 * (a failed landing) leaves its slabs to the garbage collector, never to another read.
 */
class Slabs {
  private readonly free: Buffer[] = [];
  private readonly lent = new WeakMap<ArrayBufferLike, { bytes: number; retired: boolean; slab: Buffer }>();
  private readonly keep: number;

  constructor(keep: number) {
    this.keep = keep;
  }

  take(): Buffer {
    const slab = this.free.pop() ?? Buffer.allocUnsafeSlow(SLAB);
    this.lent.set(slab.buffer, { bytes: 0, retired: false, slab });
    return slab;
  }

  lend(piece: Buffer): void {
    this.lent.get(piece.buffer)!.bytes += piece.length;
  }

  retire(slab: Buffer): void {
    const state = this.lent.get(slab.buffer)!;
    state.retired = true;
    this.recycle(state);
  }

  /** Bytes the sink is done with. Buffers that are not views of a slab (node:http's) are ignored. */
  release(chunks: readonly Buffer[]): void {
    for (const chunk of chunks) {
      const state = this.lent.get(chunk.buffer);
      if (!state) continue;
      state.bytes -= chunk.length;
      if (state.bytes < 0) throw new Error('a slab was released more than it was lent');
      this.recycle(state);
    }
  }

  private recycle(state: { bytes: number; retired: boolean; slab: Buffer }): void {
    if (!state.retired || state.bytes > 0) return;
    this.lent.delete(state.slab.buffer);
    if (this.free.length < this.keep) this.free.push(state.slab);
  }
}

/** What a response has come to: handed on in full, an error status with its text, or not ours (undefined). */
export type Answer = { status: number; text: string } | undefined;

/** One exchange on a connection; `data` gets every read while it runs. */
interface Exchange {
  data(bytes: Buffer): void;
  end(err?: unknown): void;
  timeout(): void;
}

class Connection {
  readonly socket: net.Socket;
  readonly origin: Origin;
  /** The GET running on it; undefined while it waits in its origin's pool. */
  exchange: Exchange | undefined;
  reused = false;
  private slab: Buffer | undefined;
  private used = 0;
  private readonly slabs: Slabs;

  constructor(url: URL, origin: Origin, slabs: Slabs, ca: RawGetOptions['ca']) {
    this.origin = origin;
    this.slabs = slabs;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const onread: net.OnReadOpts = { buffer: () => this.region(), callback: (n, buf) => this.read(n, buf as Buffer) };
    if (url.protocol === 'https:') {
      // servername as node:https sets it: SNI and the name checked against the certificate, never for an IP.
      // tls takes `onread` as net does (Node ≥ 15.1, nodejs/node#35753); @types/node does not list it.
      const options: tls.ConnectionOptions & { onread: net.OnReadOpts } = { host, port: Number(url.port || 443), servername: net.isIP(host) ? undefined : host, ca, onread };
      this.socket = tls.connect(options);
    } else {
      this.socket = net.connect({ host, port: Number(url.port || 80), onread });
    }
    this.socket.setNoDelay(true);
    this.socket.on('error', (err) => this.exchange?.end(err));
    this.socket.on('timeout', () => this.exchange?.timeout());
    this.socket.on('close', () => {
      if (this.slab) this.slabs.retire(this.slab);
      this.slab = undefined;
      this.exchange?.end();
      origin.closed(this);
    });
  }

  /** The rest of this socket's slab, for the next read: reads go end to end, so the bytes of a slab never overlap. */
  private region(): Buffer {
    if (!this.slab || this.slab.length - this.used < MIN_READ) {
      if (this.slab) this.slabs.retire(this.slab);
      this.slab = this.slabs.take();
      this.used = 0;
    }
    return this.slab.subarray(this.used);
  }

  /** Always true: back-pressure pauses the socket itself. */
  private read(n: number, buf: Buffer): boolean {
    this.used += n;
    // Bytes while no GET runs: the server is out of step with us, so the connection is no good.
    if (!this.exchange) this.socket.destroy();
    else this.exchange.data(buf.subarray(0, n));
    return true;
  }

  lend(piece: Buffer): void {
    this.slabs.lend(piece);
  }
}

/** Idle connections to one origin, and how many are open: at most `maxSockets`, as with node:http's agents. */
class Origin {
  readonly idle: Connection[] = [];
  open = 0;
  private readonly waiting: (() => void)[] = [];

  park(conn: Connection): void {
    conn.exchange = undefined;
    conn.socket.setTimeout(0);
    // Its GET may have ended with the socket paused for the sink; reading on, an idle socket sees the server close it.
    conn.socket.resume();
    // An idle kept-alive socket does not keep the process alive, as with node:http's agents.
    conn.socket.unref();
    this.idle.push(conn);
    this.waiting.shift()?.();
  }

  closed(conn: Connection): void {
    this.open--;
    const at = this.idle.indexOf(conn);
    if (at >= 0) this.idle.splice(at, 1);
    this.waiting.shift()?.();
  }

  /** Until a connection may be free; an abort meanwhile leaves the queue at once, with the signal's reason. */
  wait(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.waiting.splice(this.waiting.indexOf(wake), 1);
        reject(signal!.reason as Error);
      };
      this.waiting.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

export class RawGets {
  private readonly origins = new Map<string, Origin>();
  private readonly slabs: Slabs;
  private readonly options: RawGetOptions;
  /** Connections made, for tests that count reuse. */
  connections = 0;

  constructor(options: RawGetOptions) {
    this.options = options;
    this.slabs = new Slabs(2 * options.maxSockets);
  }

  /** Whether a GET of `url` is this reader's to try: plain http(s), and no proxy that node:http would go through. */
  static covers(url: URL): boolean {
    const env = process.env;
    if (env.NODE_USE_ENV_PROXY || env.HTTP_PROXY || env.HTTPS_PROXY || env.http_proxy || env.https_proxy) return false;
    return url.protocol === 'http:' || url.protocol === 'https:';
  }

  /** Gives back body bytes the sink has written. */
  release(chunks: readonly Buffer[]): void {
    this.slabs.release(chunks);
  }

  close(): void {
    for (const origin of this.origins.values()) for (const c of origin.idle.splice(0)) c.socket.destroy();
  }

  /**
   * GETs `url`: a response of `expected` status has its body handed to `sink` and answers that status; another
   * status answers its text; a response outside this reader's scope answers undefined, nothing handed on.
   * A kept-alive connection the server closed while idle fails before any byte of the response: that GET is
   * sent again once, on a new connection (a GET is safe to repeat), where node:http would report ECONNRESET.
   */
  async get(url: URL, headers: Record<string, string>, expected: number, sink: BodySink, signal?: AbortSignal): Promise<Answer> {
    let request = `GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    for (const [k, v] of Object.entries(headers)) request += `${k}: ${v}\r\n`;
    request += '\r\n';
    for (;;) {
      if (signal?.aborted) throw sink.broken(signal.reason);
      const conn = await this.connection(url, signal).catch((err: unknown) => {
        throw sink.broken(err);
      });
      const answer = await this.exchange(conn, request, expected, sink, signal);
      if (answer !== 'stale') return answer;
    }
  }

  private async connection(url: URL, signal?: AbortSignal): Promise<Connection> {
    const key = `${url.protocol}//${url.host}`;
    let origin = this.origins.get(key);
    if (!origin) this.origins.set(key, (origin = new Origin()));
    for (;;) {
      const idle = origin.idle.pop();
      if (idle) {
        idle.socket.ref();
        idle.reused = true;
        return idle;
      }
      if (origin.open < this.options.maxSockets) {
        origin.open++;
        this.connections++;
        return new Connection(url, origin, this.slabs, this.options.ca);
      }
      await origin.wait(signal);
    }
  }

  private exchange(conn: Connection, request: string, expected: number, sink: BodySink, signal?: AbortSignal): Promise<Answer | 'stale'> {
    return new Promise((resolve, reject) => {
      let head: Buffer | undefined;
      let parsed: Head | undefined;
      let remaining = 0;
      let reusable = true;
      let seen = false;
      let timedOut = false;
      const text: Buffer[] = [];
      let settled = false;
      const finish = (outcome: () => void, keep: boolean) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (keep) conn.origin.park(conn);
        else {
          conn.exchange = undefined;
          conn.socket.destroy();
        }
        outcome();
      };
      const fail = (err: unknown) => finish(() => reject(err), false);
      const onAbort = () => fail(sink.broken(signal!.reason));
      const done = (errorText = '') => {
        finish(() => resolve({ status: parsed!.status, text: errorText }), reusable && !parsed!.close);
      };
      const body = (bytes: Buffer) => {
        if (parsed!.chunked) {
          // An error body, chunked: gathered until its last chunk; the connection is not kept after it.
          text.push(Buffer.from(bytes));
          const all = Buffer.concat(text);
          if (all.length > MAX_ERROR_BODY) return finish(() => resolve(undefined), false);
          reusable = false;
          let whole: string | undefined;
          try {
            whole = dechunk(all);
          } catch (err) {
            return fail(sink.broken(err));
          }
          return whole === undefined ? undefined : done(whole);
        }
        const piece = bytes.length > remaining ? bytes.subarray(0, remaining) : bytes;
        // Bytes past the body: the connection is out of step, so it is not kept.
        if (piece !== bytes) reusable = false;
        remaining -= piece.length;
        if (parsed!.status !== expected) text.push(Buffer.from(piece));
        else if (piece.length > 0) {
          conn.lend(piece);
          const next = () => (remaining === 0 ? done() : conn.socket.resume());
          if (!feed(sink, piece, () => conn.socket.pause(), next, fail)) return;
        }
        if (remaining === 0) done(parsed!.status === expected ? '' : Buffer.concat(text).toString('utf8'));
      };
      /** The body is ours to read: a Content-Length for the object's bytes; for an error, a small one or chunks. */
      const inScope = (h: Head) => (h.status === expected ? h.length !== undefined : h.chunked || (h.length !== undefined && h.length <= MAX_ERROR_BODY));
      conn.exchange = {
        data: (bytes) => {
          seen = true;
          if (parsed) return body(bytes);
          const before = head?.length ?? 0;
          head = head ? Buffer.concat([head, bytes]) : Buffer.from(bytes);
          const end = head.indexOf(HEAD_END, Math.max(0, before - 3));
          if (end < 0) {
            if (head.length > MAX_HEAD) finish(() => resolve(undefined), false);
            return;
          }
          try {
            parsed = parseHead(head.subarray(0, end).toString('latin1'));
          } catch (err) {
            return fail(sink.broken(err));
          }
          if (!parsed || !inScope(parsed)) return finish(() => resolve(undefined), false);
          remaining = parsed.length ?? 0;
          body(bytes.subarray(end + HEAD_END.length - before));
        },
        end: (err) => {
          // A kept-alive connection the server closed while it sat idle: nothing of this GET was answered.
          if (conn.reused && !seen && !timedOut) return finish(() => resolve('stale'), false);
          if (parsed?.status === expected && !timedOut) return fail(sink.cutShort());
          fail(sink.broken(err ?? new Error('socket hang up')));
        },
        timeout: () => {
          timedOut = true;
          conn.socket.destroy(new Error(`no progress for ${this.options.idleTimeoutMs / 1000} s`));
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      conn.socket.setTimeout(this.options.idleTimeoutMs);
      conn.socket.write(request);
    });
  }
}
