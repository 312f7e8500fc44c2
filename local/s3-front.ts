/**
 * The verifying front of local mode's S3 stand-in.
 *
 * s3rver stores what it is sent: it checks no SigV4 signature, no `x-amz-checksum-sha256`, no
 * `If-None-Match`, and lacks ListParts and AbortMultipartUpload. Every S3 request of local mode (presigned
 * URLs from clients, and the service's own SDK calls) passes through this front, which adds what S3 guarantees
 * before forwarding to s3rver:
 * - presigned requests: the signature is recomputed with the SDK's own signer and compared, the URL must not be
 *   expired, and every signed header must be sent with its signed value (403 otherwise, as S3);
 * - header-signed requests (the service's SDK calls) are verified the same way, within S3's 15-minute clock skew;
 *   anonymous ones are refused;
 * - PutObject and UploadPart: the body is hashed while it is spooled to disk and compared with
 *   `x-amz-checksum-sha256` (400 BadDigest, nothing stored) and with `Content-Length` (400 IncompleteBody);
 * - PutObject and CompleteMultipartUpload without `If-None-Match: *`: 403, as the deployed bucket policy denies
 *   them; with it on an existing key: 412, serialized per key;
 * - CompleteMultipartUpload checks the listed parts exist with their ETags, in order, ≥ 5 MiB but the last;
 * - ListParts (with each part's verified SHA-256) and AbortMultipartUpload are answered from s3rver's store;
 * - a multipart upload is assembled and hashed as its parts arrive, so its completion moves the object into place
 *   and its SHA-256 is known without reading it back (`assemble`, `arrivedDigest`, local/arrivals.ts).
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { Arrivals, type StagedObject } from './arrivals.ts';

export interface LocalCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface S3Failure {
  status: number;
  code: string;
  message: string;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;
/**
 * How long CompleteMultipartUpload waits for the last parts to be hashed; past it s3rver concatenates the parts and
 * the service hashes the object (commit then leaves a large file to the ObjectCreated job: API Gateway ends a
 * request at 29 s).
 */
const SEAL_WAIT_MS = 10_000;
const MAX_XML_BODY = 1024 * 1024;
/** S3 refuses a presigned request dated further in the future than its clock skew allowance. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const AUTH_QUERY = new Set(['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token']);
const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'ETag, x-amz-checksum-sha256, x-amz-request-id, Content-Length, Content-Range',
};

const fail = (status: number, code: string, message: string): S3Failure => ({ status, code, message });

/**
 * The deployed bucket policy (DenyObjectCreationWithoutIfNoneMatch) denies every request creating an object
 * without `If-None-Match`, whatever the key and the signer, before S3 looks further; S3 accepts no other value
 * than `*`.
 */
function creationDenied(headers: IncomingHttpHeaders): S3Failure | undefined {
  const ifNoneMatch = headerValue(headers, 'if-none-match');
  if (ifNoneMatch === undefined) return fail(403, 'AccessDenied', 'Access Denied: objects are created with If-None-Match: * only');
  if (ifNoneMatch !== '*') return fail(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented');
  return undefined;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se] = m.map(Number) as number[];
  return new Date(Date.UTC(y!, mo! - 1, d!, h, mi, se));
}

const sameString = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Verifies a SigV4 presigned (query-signed) request as S3 does. The request is rebuilt the way the SDK's
 * presigner saw it — the signed headers with the values received, every other query parameter, and
 * `X-Amz-Content-Sha256` moved back into the headers — and presigned again with the same date, lifetime and
 * scope; the signature must come out the same.
 */
export async function verifyPresigned(
  request: { method: string; path: string; query: URLSearchParams; headers: IncomingHttpHeaders },
  credentials: LocalCredentials,
  now: Date = new Date(),
): Promise<S3Failure | undefined> {
  const { query, headers } = request;
  if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') {
    return fail(400, 'AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  const credential = query.get('X-Amz-Credential') ?? '';
  const signature = query.get('X-Amz-Signature') ?? '';
  const signedHeaderList = query.get('X-Amz-SignedHeaders') ?? '';
  const date = parseAmzDate(query.get('X-Amz-Date') ?? '');
  const expires = Number(query.get('X-Amz-Expires'));
  const [accessKeyId, shortDate, region, service, terminator] = credential.split('/');
  if (!date || !signature || !signedHeaderList || terminator !== 'aws4_request' || !region || !service) {
    return fail(400, 'AuthorizationQueryParametersError', 'X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Signature are required and well-formed');
  }
  if (!Number.isInteger(expires) || expires < 1 || expires > 604_800) {
    return fail(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires must be between 1 and 604800 seconds');
  }
  if (accessKeyId !== credentials.accessKeyId) {
    return fail(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  }
  if (shortDate !== query.get('X-Amz-Date')?.slice(0, 8)) {
    return fail(403, 'SignatureDoesNotMatch', 'The credential scope date does not match X-Amz-Date.');
  }
  if (now.getTime() > date.getTime() + expires * 1000) return fail(403, 'AccessDenied', 'Request has expired');
  if (date.getTime() - now.getTime() > MAX_SKEW_MS) return fail(403, 'AccessDenied', 'Request is not yet valid');

  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host')) return fail(403, 'AccessDenied', 'The host header must be signed');
  const rebuiltHeaders: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = headerValue(headers, name);
    if (value === undefined) {
      return fail(403, 'SignatureDoesNotMatch', `The signed header ${name} is missing from the request; send every header the URL was signed with.`);
    }
    rebuiltHeaders[name] = value;
  }
  const rebuiltQuery: Record<string, string | string[]> = {};
  for (const key of new Set(query.keys())) {
    if (AUTH_QUERY.has(key)) continue;
    const values = query.getAll(key);
    if (key.toLowerCase() === 'x-amz-content-sha256' && !signedHeaders.includes('x-amz-content-sha256')) {
      // The presigner set it as a header and hoisted it into the query; the payload hash is read from it.
      rebuiltHeaders[key] = values[0] ?? '';
      continue;
    }
    rebuiltQuery[key] = values.length === 1 ? values[0]! : values;
  }

  const signer = new SignatureV4({ credentials, region, service, sha256: Sha256, uriEscapePath: false });
  const resigned = await signer.presign(
    { method: request.method, protocol: 'http:', hostname: rebuiltHeaders.host ?? '', path: request.path, query: rebuiltQuery, headers: rebuiltHeaders },
    {
      signingDate: date,
      expiresIn: expires,
      signableHeaders: new Set(signedHeaders),
      unhoistableHeaders: new Set(signedHeaders),
      signingRegion: region,
      signingService: service,
    },
  );
  const expected = resigned.query?.['X-Amz-Signature'];
  if (resigned.query?.['X-Amz-SignedHeaders'] !== signedHeaderList || typeof expected !== 'string' || !sameString(expected, signature)) {
    return fail(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  }
  return undefined;
}

/**
 * Verifies a request signed in its Authorization header (the service's own SDK calls) the same way: rebuilt
 * from the signed headers and the query, signed again for the same date and scope, compared.
 */
export async function verifyHeaderSigned(
  request: { method: string; path: string; query: URLSearchParams; headers: IncomingHttpHeaders },
  credentials: LocalCredentials,
  now: Date = new Date(),
): Promise<S3Failure | undefined> {
  const { headers, query } = request;
  const auth = /^AWS4-HMAC-SHA256 Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(headerValue(headers, 'authorization') ?? '');
  if (!auth) return fail(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed; it must be AWS4-HMAC-SHA256 with Credential, SignedHeaders and Signature.');
  const [, credential = '', signedHeaderList = '', signature = ''] = auth;
  const [accessKeyId, , region, service] = credential.split('/');
  if (accessKeyId !== credentials.accessKeyId) {
    return fail(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  }
  const date = parseAmzDate(headerValue(headers, 'x-amz-date') ?? '');
  if (!date || !region || !service) return fail(403, 'AccessDenied', 'AWS authentication requires a valid X-Amz-Date header and credential scope');
  if (Math.abs(now.getTime() - date.getTime()) > MAX_SKEW_MS) {
    return fail(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  }
  const signedHeaders = signedHeaderList.split(';');
  const rebuiltHeaders: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = headerValue(headers, name);
    if (value === undefined) return fail(403, 'SignatureDoesNotMatch', `The signed header ${name} is missing from the request.`);
    rebuiltHeaders[name] = value;
  }
  const rebuiltQuery: Record<string, string | string[]> = {};
  for (const key of new Set(query.keys())) {
    const values = query.getAll(key);
    rebuiltQuery[key] = values.length === 1 ? values[0]! : values;
  }
  const signer = new SignatureV4({ credentials, region, service, sha256: Sha256, uriEscapePath: false });
  const resigned = await signer.sign(
    { method: request.method, protocol: 'http:', hostname: rebuiltHeaders.host ?? '', path: request.path, query: rebuiltQuery, headers: rebuiltHeaders },
    { signingDate: date, signableHeaders: new Set(signedHeaders), signingRegion: region, signingService: service },
  );
  const expected = /SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(String(resigned.headers.authorization ?? ''));
  if (expected?.[1] !== signedHeaderList || !sameString(expected[2] ?? '', signature)) {
    return fail(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  }
  return undefined;
}

/** Serializes async work per key, so a create-only check and the write it guards are one step. */
export class KeyLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(work, work);
    const tail = current.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sendXml(res: ServerResponse, status: number, xml: string, extra: Record<string, string> = {}): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
  res.writeHead(status, { ...CORS_HEADERS, 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

function sendError(res: ServerResponse, failure: S3Failure): void {
  const requestId = randomUUID();
  sendXml(
    res,
    failure.status,
    `<Error><Code>${escapeXml(failure.code)}</Code><Message>${escapeXml(failure.message)}</Message><RequestId>${requestId}</RequestId></Error>`,
    { 'x-amz-request-id': requestId },
  );
}

/** The header by which s3rver knows a request came through the front (unsigned: s3rver ignores it). */
export const UPSTREAM_TOKEN_HEADER = 'x-arca-front-token';

export interface S3FrontOptions {
  /** s3rver's base URL. */
  upstream: URL;
  /** Sent to s3rver with every forwarded request (UPSTREAM_TOKEN_HEADER): s3rver answers nothing else. */
  upstreamToken: string;
  /** s3rver's data directory, where multipart parts wait until completed. */
  storeDir: string;
  /** Where request bodies are spooled while they are hashed, so nothing reaches the store unverified. */
  spoolDir: string;
  /** The only key pair local mode signs with (the service's client and its presigner). */
  credentials: LocalCredentials;
  /** Where multipart objects are assembled as their parts arrive: on the store's file system (an object is moved into place). */
  stagingDir: string;
  /** s3rver's own writing of an object's metadata and ETag (its MD5 file), for an object the front assembled. */
  storeMetadata: (bucket: string, key: string, metadata: Record<string, string>, md5: string) => Promise<void>;
  /** Called after an object is created (PutObject, CompleteMultipartUpload), as S3 event notifications are. */
  onObjectCreated?: (created: ObjectCreated) => void;
}

export interface ObjectCreated {
  eventName: 'ObjectCreated:Put' | 'ObjectCreated:CompleteMultipartUpload';
  bucket: string;
  key: string;
  size: number;
  etag: string;
}

interface Body {
  file: string;
  length: number;
}

export interface ObjectDigest {
  size: number;
  sha256: string;
}

class S3Front {
  private readonly locks = new KeyLocks();
  private readonly arrivals: Arrivals;
  /** By `bucket/uploadId`, while its CompleteMultipartUpload is with s3rver: the object assembled from the listed parts. */
  private readonly staged = new Map<string, StagedObject & { key: string; parts: number }>();
  /** By `bucket/key`: the digest of an object the front assembled. */
  private readonly completed = new Map<string, Omit<StagedObject, 'file'>>();

  constructor(private readonly opts: S3FrontOptions) {
    this.arrivals = new Arrivals(opts.stagingDir, SEAL_WAIT_MS);
  }

  /**
   * The SHA-256 of `key`'s stored bytes when the front assembled the object from the bytes it hashed, and the
   * object is still that one (s3rver rewrites the MD5 beside an object whenever it stores one); else undefined.
   */
  async arrivedDigest(bucket: string, key: string): Promise<ObjectDigest | undefined> {
    const digest = this.completed.get(`${bucket}/${key}`);
    if (!digest) return undefined;
    const file = this.objectPath(bucket, key);
    const [md5, stored] = await Promise.all([readFile(`${file}.md5`, 'utf8').catch(() => undefined), stat(file).catch(() => undefined)]);
    return md5 === digest.etag && stored?.size === digest.size ? { size: digest.size, sha256: digest.sha256 } : undefined;
  }

  /**
   * s3rver's completion of `uploadId` from parts `listed` (local/s3.ts): moves the object the front assembled into
   * place, as s3rver would have written it, and answers its size and ETag (`md5`, as s3rver's store calls it);
   * undefined when there is none for exactly these parts (s3rver then concatenates them).
   */
  async assemble(bucket: string, uploadId: string, listed: readonly number[]): Promise<{ size: number; md5: string } | undefined> {
    const staged = this.staged.get(`${bucket}/${uploadId}`);
    if (!staged || listed.length !== staged.parts || listed.some((n, i) => n !== i + 1)) return undefined;
    this.staged.delete(`${bucket}/${uploadId}`);
    const dir = this.uploadDir(bucket, uploadId);
    const object = this.objectPath(bucket, staged.key);
    try {
      const metadata = JSON.parse(await readFile(path.join(dir, 'metadata'), 'utf8')) as Record<string, string>;
      await mkdir(path.dirname(object), { recursive: true });
      await rename(staged.file, object);
      // With s3rver's default content type for a completed object (its S3Object); the ETag goes in its MD5 file.
      await this.opts.storeMetadata(bucket, staged.key, { 'content-type': 'binary/octet-stream', ...metadata }, staged.etag);
    } catch {
      await rm(object, { force: true });
      return undefined;
    }
    await rm(dir, { recursive: true, force: true });
    this.completed.set(`${bucket}/${staged.key}`, { size: staged.size, sha256: staged.sha256, etag: staged.etag });
    return { size: staged.size, md5: staged.etag };
  }

  close(): Promise<void> {
    return this.arrivals.close();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://front');
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.writeHead(200, {
        ...CORS_HEADERS,
        'access-control-allow-methods': 'GET, HEAD, PUT, POST, DELETE',
        'access-control-allow-headers': headerValue(req.headers, 'access-control-request-headers') ?? '*',
        'access-control-max-age': '3000',
      });
      res.end();
      return;
    }
    const failure = await this.authenticate(method, url, req.headers);
    if (failure) return this.refuse(req, res, failure);

    const [bucket, ...keyParts] = url.pathname.slice(1).split('/').map(decodeURIComponent);
    const key = keyParts.join('/');
    const uploadId = url.searchParams.get('uploadId');
    if (!bucket || !key) return void (await this.forward(req, res));
    if (method === 'PUT' && !req.headers['x-amz-copy-source']) return this.put(req, res, bucket, key, uploadId, url.searchParams.get('partNumber'));
    if (method === 'POST' && uploadId !== null) return this.complete(req, res, bucket, key, uploadId);
    if (method === 'GET' && uploadId !== null) return this.listParts(res, url, bucket, key, uploadId);
    if (method === 'DELETE' && uploadId !== null) return this.abort(res, bucket, key, uploadId);
    if (method === 'DELETE') this.completed.delete(`${bucket}/${key}`);
    await this.forward(req, res);
  }

  private async authenticate(method: string, url: URL, headers: IncomingHttpHeaders): Promise<S3Failure | undefined> {
    if (url.searchParams.has('X-Amz-Signature') || url.searchParams.has('X-Amz-Algorithm')) {
      return verifyPresigned({ method, path: url.pathname, query: url.searchParams, headers }, this.opts.credentials);
    }
    if (headerValue(headers, 'authorization') === undefined) {
      return fail(403, 'AccessDenied', 'Access Denied: the bucket blocks public access; use a presigned URL');
    }
    return verifyHeaderSigned({ method, path: url.pathname, query: url.searchParams, headers }, this.opts.credentials);
  }

  /** Answers an error without storing the body, which is drained so the client can read the answer. */
  private refuse(req: IncomingMessage, res: ServerResponse, failure: S3Failure): void {
    req.resume();
    sendError(res, failure);
  }

  private uploadDir(bucket: string, uploadId: string): string {
    if (!/^[0-9a-f]+$/.test(uploadId)) return path.join(this.opts.storeDir, bucket, '._S3rver_uploads', 'invalid');
    return path.join(this.opts.storeDir, bucket, '._S3rver_uploads', uploadId);
  }

  private async uploadKey(bucket: string, uploadId: string): Promise<string | undefined> {
    return readFile(path.join(this.uploadDir(bucket, uploadId), 'key'), 'utf8').catch(() => undefined);
  }

  private async put(req: IncomingMessage, res: ServerResponse, bucket: string, key: string, uploadId: string | null, partNumber: string | null): Promise<void> {
    const declaredLength = headerValue(req.headers, 'content-length');
    if (declaredLength === undefined) return this.refuse(req, res, fail(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.'));
    const checksum = headerValue(req.headers, 'x-amz-checksum-sha256');
    if (checksum !== undefined && !/^[A-Za-z0-9+/]{43}=$/.test(checksum)) {
      return this.refuse(req, res, fail(400, 'InvalidRequest', 'Value for x-amz-checksum-sha256 header is invalid.'));
    }
    const denied = uploadId === null ? creationDenied(req.headers) : undefined;
    if (denied) return this.refuse(req, res, denied);
    if (uploadId !== null) {
      if (!partNumber || !/^\d+$/.test(partNumber) || Number(partNumber) < 1 || Number(partNumber) > 10_000) {
        return this.refuse(req, res, fail(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive'));
      }
      if ((await this.uploadKey(bucket, uploadId)) !== key) {
        return this.refuse(req, res, fail(404, 'NoSuchUpload', 'The specified upload does not exist.'));
      }
    }

    const { body, sha256 } = await this.spool(req);
    try {
      if (body.length !== Number(declaredLength)) {
        return sendError(res, fail(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.'));
      }
      if (checksum !== undefined && checksum !== sha256) {
        return sendError(res, fail(400, 'BadDigest', 'The SHA256 you specified did not match the calculated checksum.'));
      }
      if (uploadId !== null) {
        const file = path.join(this.uploadDir(bucket, uploadId), partNumber!);
        let md5: string | undefined;
        try {
          if ((await this.forward(req, res, body)) === 200) {
            await writeFile(`${file}.arca-sha256`, sha256);
            md5 = await readFile(`${file}.md5`, 'utf8');
          }
        } finally {
          // Whatever s3rver did with the part file, the assembly learns it (a failed write may have changed it).
          this.arrivals.partWritten(`${bucket}/${uploadId}`, Number(partNumber), md5 === undefined ? undefined : { file, length: body.length, md5 });
        }
        return;
      }
      await this.createOnly(res, bucket, key, async () => {
        if ((await this.forward(req, res, body)) === 200) this.created('ObjectCreated:Put', bucket, key, res);
      });
    } finally {
      await unlink(body.file).catch(() => undefined);
    }
  }

  /** Runs a write that creates `key` under the key's lock, refusing it with 412 when the key exists. */
  private async createOnly(res: ServerResponse, bucket: string, key: string, write: () => Promise<unknown>): Promise<void> {
    await this.locks.run(`${bucket}/${key}`, async () => {
      if (await this.exists(bucket, key)) {
        return sendError(res, fail(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'));
      }
      await write();
    });
  }

  private objectPath(bucket: string, key: string): string {
    return path.join(this.opts.storeDir, bucket, ...path.posix.dirname(key).split('/').filter((s) => s !== '.'), `${path.posix.basename(key)}._S3rver_object`);
  }

  private async exists(bucket: string, key: string): Promise<boolean> {
    return stat(this.objectPath(bucket, key)).then(
      () => true,
      () => false,
    );
  }

  /** Notifies after the answer is sent, as S3 delivers event notifications asynchronously. */
  private created(eventName: ObjectCreated['eventName'], bucket: string, key: string, res: ServerResponse): void {
    const notify = this.opts.onObjectCreated;
    if (!notify) return;
    const etag = String(res.getHeader('etag') ?? '').replace(/"/g, '');
    void stat(this.objectPath(bucket, key)).then(
      ({ size }) => notify({ eventName, bucket, key, size, etag }),
      () => undefined,
    );
  }

  private async spool(req: IncomingMessage): Promise<{ body: Body; sha256: string }> {
    await mkdir(this.opts.spoolDir, { recursive: true });
    const file = path.join(this.opts.spoolDir, randomUUID());
    const hash = createHash('sha256');
    let length = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        length += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(req, meter, createWriteStream(file));
    } catch (error) {
      // An upload the client abandoned leaves nothing behind.
      await unlink(file).catch(() => undefined);
      throw error;
    }
    return { body: { file, length }, sha256: hash.digest('base64') };
  }

  private async complete(req: IncomingMessage, res: ServerResponse, bucket: string, key: string, uploadId: string): Promise<void> {
    const denied = creationDenied(req.headers);
    if (denied) return this.refuse(req, res, denied);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_XML_BODY) return sendError(res, fail(400, 'MaxMessageLengthExceeded', 'Your request was too big.'));
      chunks.push(chunk);
    }
    const xml = Buffer.concat(chunks).toString('utf8');
    if ((await this.uploadKey(bucket, uploadId)) !== key) {
      return sendError(res, fail(404, 'NoSuchUpload', 'The specified upload does not exist.'));
    }
    const parts = [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
      number: Number(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(m[1]!)?.[1]),
      etag: /<ETag>([\s\S]*?)<\/ETag>/.exec(m[1]!)?.[1]?.replace(/&quot;|"/g, '').trim(),
    }));
    if (parts.length === 0 || parts.some((p) => !Number.isInteger(p.number) || !p.etag)) {
      return sendError(res, fail(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.'));
    }
    const dir = this.uploadDir(bucket, uploadId);
    for (const [i, part] of parts.entries()) {
      if (i > 0 && part.number <= parts[i - 1]!.number) {
        return sendError(res, fail(400, 'InvalidPartOrder', 'The list of parts was not in ascending order.'));
      }
      const md5 = await readFile(path.join(dir, `${part.number}.md5`), 'utf8').catch(() => undefined);
      if (md5 !== part.etag) {
        return sendError(res, fail(400, 'InvalidPart', `Part ${part.number} could not be found or its ETag does not match.`));
      }
      const { size: partSize } = await stat(path.join(dir, String(part.number)));
      if (i < parts.length - 1 && partSize < MIN_PART_SIZE) {
        return sendError(res, fail(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.'));
      }
    }
    await this.createOnly(res, bucket, key, async () => {
      const upload = `${bucket}/${uploadId}`;
      const staged = await this.arrivals.seal(upload, parts);
      if (staged) this.staged.set(upload, { ...staged, key, parts: parts.length });
      let status: number;
      try {
        status = await this.forward(req, res, Buffer.from(xml));
      } finally {
        this.staged.delete(upload);
        this.arrivals.forget(upload);
      }
      if (status === 200) this.created('ObjectCreated:CompleteMultipartUpload', bucket, key, res);
    });
  }

  private async listParts(res: ServerResponse, url: URL, bucket: string, key: string, uploadId: string): Promise<void> {
    if ((await this.uploadKey(bucket, uploadId)) !== key) {
      return sendError(res, fail(404, 'NoSuchUpload', 'The specified upload does not exist.'));
    }
    const dir = this.uploadDir(bucket, uploadId);
    const marker = Number(url.searchParams.get('part-number-marker') ?? 0);
    const maxParts = Math.min(1000, Number(url.searchParams.get('max-parts') ?? 1000));
    const numbers = (await readdir(dir))
      .filter((f) => /^\d+$/.test(f))
      .map(Number)
      .filter((n) => n > marker)
      .sort((a, b) => a - b);
    const page = numbers.slice(0, maxParts);
    const truncated = numbers.length > page.length;
    const parts = await Promise.all(
      page.map(async (n) => {
        const file = path.join(dir, String(n));
        const [info, md5, sha256] = await Promise.all([
          stat(file),
          readFile(`${file}.md5`, 'utf8'),
          readFile(`${file}.arca-sha256`, 'utf8').catch(() => undefined),
        ]);
        return (
          `<Part><PartNumber>${n}</PartNumber><LastModified>${info.mtime.toISOString()}</LastModified>` +
          `<ETag>"${md5}"</ETag><Size>${info.size}</Size>${sha256 ? `<ChecksumSHA256>${sha256}</ChecksumSHA256>` : ''}</Part>`
        );
      }),
    );
    sendXml(
      res,
      200,
      `<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(key)}</Key>` +
        `<UploadId>${uploadId}</UploadId><PartNumberMarker>${marker}</PartNumberMarker>` +
        `<NextPartNumberMarker>${page.at(-1) ?? marker}</NextPartNumberMarker><MaxParts>${maxParts}</MaxParts>` +
        `<IsTruncated>${truncated}</IsTruncated>${parts.join('')}</ListPartsResult>`,
    );
  }

  private async abort(res: ServerResponse, bucket: string, key: string, uploadId: string): Promise<void> {
    if ((await this.uploadKey(bucket, uploadId)) !== key) {
      return sendError(res, fail(404, 'NoSuchUpload', 'The specified upload does not exist.'));
    }
    await rm(this.uploadDir(bucket, uploadId), { recursive: true, force: true });
    this.arrivals.forget(`${bucket}/${uploadId}`);
    res.writeHead(204, CORS_HEADERS);
    res.end();
  }

  /** Relays the request to s3rver (the body from the spool or buffer when given) and its answer back; resolves to the status. */
  private forward(req: IncomingMessage, res: ServerResponse, body?: Body | Buffer): Promise<number> {
    const { upstream } = this.opts;
    const headers: IncomingHttpHeaders = { ...req.headers, host: upstream.host, [UPSTREAM_TOKEN_HEADER]: this.opts.upstreamToken };
    if (body) {
      headers['content-length'] = String(Buffer.isBuffer(body) ? body.length : body.length);
      delete headers['transfer-encoding'];
    }
    return new Promise<number>((resolve, reject) => {
      const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...CORS_HEADERS });
        pipeline(answer, res).then(() => resolve(answer.statusCode ?? 502), reject);
      });
      out.on('error', reject);
      if (!body) void pipeline(req, out).catch(reject);
      else if (Buffer.isBuffer(body)) out.end(body);
      else void pipeline(createReadStream(body.file), out).catch(reject);
    });
  }
}

export interface S3FrontServer {
  /** Not yet listening; closing it ends the front's hashing thread. */
  server: http.Server;
  arrivedDigest(bucket: string, key: string): Promise<ObjectDigest | undefined>;
  assemble(bucket: string, uploadId: string, listed: readonly number[]): Promise<{ size: number; md5: string } | undefined>;
}

/** An HTTP server that verifies and forwards S3 requests to s3rver. */
export function createS3Front(opts: S3FrontOptions): S3FrontServer {
  const front = new S3Front(opts);
  const server = http.createServer((req, res) => {
    front.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, fail(500, 'InternalError', `local S3 front: ${String(error)}`));
      else res.destroy();
    });
  });
  server.on('close', () => void front.close());
  return { server, arrivedDigest: (bucket, key) => front.arrivedDigest(bucket, key), assemble: (bucket, uploadId, listed) => front.assemble(bucket, uploadId, listed) };
}
