/**
 * Byte transfers to and from presigned S3 URLs: uploads streamed from disk over node:http(s), downloads handed
 * on chunk by chunk as they arrive (client/landing.ts writes and hashes them), read by client/rawGet.ts where
 * the response is in its scope and by node:http otherwise, so memory stays flat whatever the file size;
 * keep-alive sockets, an explicit Content-Length, and exactly the headers the service signed.
 * Every byte sent or received is counted, so tests can assert what moved.
 */
import { open } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { feed, RawGets, type BodySink } from './rawGet.ts';

export interface TransferStats {
  bytesUploaded: number;
  bytesDownloaded: number;
}

/** An HTTP failure of a presigned request: the status tells the caller whether to retry or refresh the URL. */
export class TransferError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TransferError';
    this.status = status;
  }
  /** Network errors, throttling and server faults are worth another try; 4xx are not (403 needs a fresh URL). */
  get retryable(): boolean {
    return this.status === undefined || this.status === 429 || this.status >= 500 || this.status === 408;
  }
}

const IDLE_TIMEOUT_MS = 120_000;
/** Upload body writes: large enough that a GiB is a few hundred writes, small enough for 2 per request in flight. */
const SEND_CHUNK = 4 * 1024 * 1024;

export interface ByteRange {
  /** Inclusive. */
  start: number;
  /** Exclusive. */
  end: number;
}

export interface TransfersOptions {
  /** A request with no bytes moving for this long fails (retryable). Default 120 s. */
  idleTimeoutMs?: number;
  /** Certificates to trust besides the default CAs (a private CA in front of the store). */
  ca?: ConnectionOptions['ca'];
}

export class Transfers {
  readonly stats: TransferStats = { bytesUploaded: 0, bytesDownloaded: 0 };
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly idleTimeoutMs: number;
  /** The GETs' reader where a response is in its scope (rawGet.ts); node:http reads the rest. */
  readonly raw: RawGets;

  constructor(maxSockets: number, opts: TransfersOptions = {}) {
    this.idleTimeoutMs = opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets, ca: opts.ca });
    this.raw = new RawGets({ maxSockets, idleTimeoutMs: this.idleTimeoutMs, ca: opts.ca });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.raw.close();
  }

  /** Chunks handed to a GET's `onChunk` that are written and no longer read: their memory serves later reads. */
  recycle(chunks: readonly Buffer[]): void {
    this.raw.release(chunks);
  }

  private request(url: string, options: http.RequestOptions): http.ClientRequest {
    const u = new URL(url);
    const secure = u.protocol === 'https:';
    const req = (secure ? https : http).request(u, { ...options, agent: secure ? this.httpsAgent : this.httpAgent });
    req.setTimeout(this.idleTimeoutMs, () => req.destroy(new TransferError(`no progress for ${this.idleTimeoutMs / 1000} s`)));
    return req;
  }

  /** PUTs `range` of the file at `path`, streamed from disk. Resolves with the response's ETag. */
  async put(
    url: string,
    signedHeaders: Record<string, string>,
    path: string,
    range: ByteRange,
    opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {},
  ): Promise<string | undefined> {
    const length = range.end - range.start;
    const headers: Record<string, string> = { 'content-length': String(length) };
    for (const [k, v] of Object.entries(signedHeaders)) headers[k.toLowerCase()] = v;
    if (headers['content-length'] !== String(length)) {
      throw new TransferError(`the service signed content-length ${headers['content-length']} for ${length} bytes`);
    }
    const req = this.request(url, { method: 'PUT', headers, signal: opts.signal });
    const response = responseOf(req);
    // The request fails (ECONNREFUSED, ECONNRESET: the endpoint died) while the body is still streaming, before
    // anything awaits `response`; marked handled here, it is still awaited and reported as a TransferError below.
    response.catch(() => undefined);
    try {
      await this.send(req, path, range, opts.onBytes);
    } catch (err) {
      // S3 may answer (403, 400) before it has read the body, which breaks the pipe: report its answer.
      const early = await Promise.race([
        response.then((res) => ({ res }), (error: unknown) => ({ error })),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 1000).unref()),
      ]);
      if (early && 'res' in early && !opts.signal?.aborted) {
        throw new TransferError(`PUT ${u(url)} answered ${early.res.statusCode}: ${s3Message(await readAll(early.res).catch(() => ''))}`, early.res.statusCode);
      }
      // A request that failed before the body was handed to it (ECONNREFUSED while the file opened) makes the
      // next write fail with "write after destroyed": the request's own error says why.
      throw asTransferError(early && 'error' in early ? early.error : err, opts.signal);
    }
    const res = await response.catch((err: unknown) => {
      throw asTransferError(err, opts.signal);
    });
    const text = await readAll(res);
    if (res.statusCode !== 200) throw new TransferError(`PUT ${u(url)} answered ${res.statusCode}: ${s3Message(text)}`, res.statusCode);
    return res.headers.etag;
  }

  /**
   * Writes `range` of the file as the request's body from two buffers taken in turn: a buffer is read into again
   * once the socket has taken it. Against a fresh buffer per read (a read stream), this halves the upload's
   * CPU time and its memory: a new MiB is page faults and garbage, both paid per byte.
   */
  private async send(req: http.ClientRequest, path: string, range: ByteRange, onBytes?: (n: number) => void): Promise<void> {
    const file = await open(path, 'r');
    try {
      const free = [Buffer.allocUnsafe(SEND_CHUNK), Buffer.allocUnsafe(SEND_CHUNK)];
      let failed: unknown;
      let wake: (() => void) | undefined;
      let ending: ((err: unknown) => void) | undefined;
      const stop = (err: unknown) => {
        failed ??= err;
        wake?.();
        ending?.(failed);
      };
      req.once('error', stop);
      req.once('close', () => stop(new TransferError('the connection closed before the body was sent')));
      for (let at = range.start; at < range.end; ) {
        while (free.length === 0 && failed === undefined) await new Promise<void>((resolve) => (wake = resolve));
        if (failed !== undefined) throw failed;
        const buffer = free.pop()!;
        const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, range.end - at), at);
        if (bytesRead === 0) throw new TransferError(`${path} ended at ${at} bytes, before ${range.end}`);
        at += bytesRead;
        this.stats.bytesUploaded += bytesRead;
        onBytes?.(bytesRead);
        req.write(buffer.subarray(0, bytesRead), (err) => {
          if (err) return stop(err);
          free.push(buffer);
          wake?.();
        });
      }
      await new Promise<void>((resolve, reject) => {
        if (failed !== undefined) return reject(failed as Error);
        ending = reject;
        req.end(resolve);
      });
    } finally {
      await file.close();
    }
  }

  /**
   * GETs `range` of the object (without a Range header when `whole`), handing each chunk to `onChunk` as it
   * arrives; a promise from `onChunk` pauses the response until it settles. Fails unless exactly the
   * range's bytes arrive. A chunk may be a view of memory that later reads reuse once it is passed to `recycle`.
   */
  async get(
    url: string,
    range: ByteRange,
    opts: { whole: boolean; onChunk: (chunk: Buffer) => Promise<void> | undefined; signal?: AbortSignal; onBytes?: (n: number) => void },
  ): Promise<void> {
    const headers: Record<string, string> = opts.whole ? {} : { range: `bytes=${range.start}-${range.end - 1}` };
    const expected = opts.whole ? 200 : 206;
    const sink = new Receiver(this.stats, url, range.end - range.start, opts);
    const target = new URL(url);
    const answer = RawGets.covers(target) ? await this.raw.get(target, headers, expected, sink, opts.signal) : undefined;
    if (answer === undefined) await this.getOverHttp(url, headers, expected, sink, opts.signal);
    else if (answer.status !== expected) throw answered(url, answer.status, answer.text);
    if (sink.received !== sink.want) throw new TransferError(`GET ${u(url)} sent ${sink.received} bytes, ${sink.want} expected`);
  }

  private async getOverHttp(url: string, headers: Record<string, string>, expected: number, sink: Receiver, signal?: AbortSignal): Promise<void> {
    const req = this.request(url, { method: 'GET', headers, signal });
    req.end();
    const res = await responseOf(req).catch((err: unknown) => {
      throw sink.broken(err);
    });
    if (res.statusCode !== expected) throw answered(url, res.statusCode, await readAll(res).catch(() => ''));
    // 'data' events rather than a pipeline or an async iterator: at 16,000 chunks a GiB, their per-chunk cost shows.
    await new Promise<void>((resolve, reject) => {
      // The sink's own failures (a full disk) pass as they are: retrying them would not help.
      const stop = (err: unknown) => {
        res.destroy();
        reject(err);
      };
      res.on('data', (chunk: Buffer) => feed(sink, chunk, () => res.pause(), () => res.resume(), stop));
      res.once('end', resolve);
      res.once('error', (err) => stop(sink.broken(err)));
      res.once('close', () => (res.complete ? resolve() : stop(sink.cutShort())));
    });
  }
}

/** A GET's bytes on their way to `onChunk`: counted, and never more than the range's. */
class Receiver implements BodySink {
  received = 0;
  readonly want: number;
  private readonly stats: TransferStats;
  private readonly url: string;
  private readonly opts: { onChunk: (chunk: Buffer) => Promise<void> | undefined; signal?: AbortSignal; onBytes?: (n: number) => void };

  constructor(stats: TransferStats, url: string, want: number, opts: Receiver['opts']) {
    this.stats = stats;
    this.url = url;
    this.want = want;
    this.opts = opts;
  }

  take(chunk: Buffer): Promise<void> | undefined {
    if (this.received + chunk.length > this.want) throw new TransferError(`GET ${u(this.url)} sent more than the ${this.want} bytes expected`);
    this.received += chunk.length;
    this.stats.bytesDownloaded += chunk.length;
    this.opts.onBytes?.(chunk.length);
    return this.opts.onChunk(chunk);
  }

  cutShort(): Error {
    return new TransferError(`GET ${u(this.url)}: the connection closed after ${this.received} of ${this.want} bytes`);
  }

  broken(err: unknown): Error {
    return asTransferError(err, this.opts.signal);
  }
}

const answered = (url: string, status: number | undefined, text: string): TransferError =>
  new TransferError(`GET ${u(url)} answered ${status}: ${s3Message(text)}`, status);

const u = (url: string): string => {
  const x = new URL(url);
  return `${x.origin}${x.pathname}`;
};

function responseOf(req: http.ClientRequest): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
}

async function readAll(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The `<Code>` and `<Message>` of an S3 XML error, or the start of whatever came. */
function s3Message(text: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  if (code) return message ? `${code}: ${message}` : code;
  return text.slice(0, 200) || '(no body)';
}

function asTransferError(err: unknown, signal?: AbortSignal): Error {
  if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new Error('aborted');
  if (err instanceof TransferError) return err;
  return new TransferError((err as Error).message, undefined, err);
}
