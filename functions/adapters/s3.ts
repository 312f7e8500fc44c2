/**
 * The blob store: presigned transfers (SPEC R-UPLOAD) and what commit needs to verify arrivals (R-STORE).
 * S3 errors are translated here; callers see plain results.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { formatUrl } from '@aws-sdk/core/util';
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import type { RequestPresigningArguments } from '@smithy/types';
import type { PartUrl, PresignedRequest } from '../../contract/schemas.ts';
import { env } from '../shared/env.ts';
import { traceClient } from '../shared/observability.ts';

export const CLIENT_BASE: S3ClientConfig = {
  // Checksums are the client's declared digests, signed into the URL; the SDK must not add its own CRC32.
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
};

/** The client the service talks to S3 with. */
export const s3 = traceClient(new S3Client(env.s3Endpoint ? { ...CLIENT_BASE, endpoint: env.s3Endpoint, forcePathStyle: true } : CLIENT_BASE));

/**
 * The client that signs URLs for uploaders and downloaders (local mode: its verifying front). On AWS a
 * client of its own, not traced: it sends nothing, and a trace header must not be signed into a URL.
 */
export const presigner = env.s3PublicEndpoint
  ? new S3Client({ ...CLIENT_BASE, endpoint: env.s3PublicEndpoint, forcePathStyle: true })
  : env.s3Endpoint
    ? s3
    : new S3Client(CLIENT_BASE);

/** Metadata written with every upload, so the ObjectCreated job knows which version waits for the blob. */
export const VERSION_META = 'arca-version';

export const hexToBase64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

/**
 * Presigned single PUT of `sha256`'s bytes to `key` (the upload's own object): key, length, SHA-256 and
 * create-only are signed headers the uploader must send.
 */
export async function presignPut(key: string, sha256: string, size: number, waiting: string): Promise<PresignedRequest> {
  const headers = {
    'content-length': String(size),
    'if-none-match': '*',
    'x-amz-checksum-sha256': hexToBase64(sha256),
    [`x-amz-meta-${VERSION_META}`]: waiting,
  };
  const viaSdk = (o: RequestPresigningArguments) =>
    getSignedUrl(presigner, new PutObjectCommand({
      Bucket: env.bucket,
      Key: key,
      ContentLength: size,
      ChecksumSHA256: headers['x-amz-checksum-sha256'],
      IfNoneMatch: '*',
      Metadata: { [VERSION_META]: waiting },
    }), o);
  const url = await signUrl(presigner, env.bucket, key, viaSdk, { method: 'PUT', query: { 'x-id': 'PutObject' }, headers }, { expiresIn: env.presignPutTtl });
  return { method: 'PUT', url, headers };
}

export async function createMultipartUpload(key: string, waiting: string): Promise<string> {
  const out = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: env.bucket,
      Key: key,
      ChecksumAlgorithm: 'SHA256',
      Metadata: { [VERSION_META]: waiting },
    }),
  );
  if (!out.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
  return out.UploadId;
}

export async function presignPart(key: string, uploadId: string, partNumber: number, size: number, partSha256: string): Promise<PartUrl> {
  const headers = { 'content-length': String(size), 'x-amz-checksum-sha256': hexToBase64(partSha256) };
  const viaSdk = (o: RequestPresigningArguments) =>
    getSignedUrl(presigner, new UploadPartCommand({
      Bucket: env.bucket,
      Key: key,
      UploadId: uploadId,
      PartNumber: partNumber,
      ContentLength: size,
      ChecksumSHA256: headers['x-amz-checksum-sha256'],
    }), o);
  const query = { partNumber: String(partNumber), uploadId, 'x-id': 'UploadPart' };
  const url = await signUrl(presigner, env.bucket, key, viaSdk, { method: 'PUT', query, headers }, { expiresIn: env.presignPutTtl });
  return { partNumber, url, headers };
}

/** Where a client's URLs for a bucket point and how they are signed; learnt from one `getSignedUrl`. */
interface UrlTemplate {
  signer: S3RequestPresigner;
  region: string;
  protocol: string;
  hostname: string;
  port?: number;
  host: string;
  pathPrefix: string;
}

const templates = new WeakMap<S3Client, Map<string, Promise<UrlTemplate>>>();

function learnTemplate(client: S3Client, bucket: string, key: string, firstUrl: string): UrlTemplate {
  const url = new URL(firstUrl);
  const region = decodeURIComponent(url.searchParams.get('X-Amz-Credential') ?? '').split('/')[2];
  if (!region || !url.pathname.endsWith(`/${key}`)) throw new Error(`cannot learn the URL shape of bucket ${bucket} from ${url.origin}${url.pathname}`);
  return {
    // The client's own config (credential provider memoized, so resolved once); the SDK caches the signing key per day.
    signer: new S3RequestPresigner({ ...client.config, region: () => Promise.resolve(region), signingName: 's3' }),
    region,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    host: url.host,
    pathPrefix: url.pathname.slice(0, -key.length - 1),
  };
}

/** An object operation as the SDK would serialize it: its query, and the headers the caller must send (signed, never hoisted). */
export interface ObjectRequest {
  method: 'GET' | 'PUT';
  query: Record<string, string>;
  headers?: Record<string, string>;
}

export interface SignOptions {
  expiresIn: number;
  /** Fixed signing time, for tests. */
  signingDate?: Date;
}

/**
 * A presigned URL for one object operation, byte-identical to `getSignedUrl`'s (test/unit/core/s3.test.ts). The
 * first URL per client and bucket comes from `getSignedUrl` (`viaSdk`, the same operation), which teaches the endpoint (scheme,
 * host, path style) and signing region; later ones are signed by one reused presigner: `getSignedUrl` clones the
 * middleware stack and resolves the endpoint rules for every URL, ~7× the cost of signing (R-UPLOAD).
 */
export async function signUrl(
  client: S3Client,
  bucket: string,
  key: string,
  viaSdk: (o: RequestPresigningArguments) => Promise<string>,
  request: ObjectRequest,
  opts: SignOptions,
): Promise<string> {
  const byBucket = templates.get(client) ?? new Map<string, Promise<UrlTemplate>>();
  templates.set(client, byBucket);
  const signed = new Set(Object.keys(request.headers ?? {}));
  const known = byBucket.get(bucket);
  if (!known) {
    const first = viaSdk({ ...opts, signableHeaders: signed, unhoistableHeaders: signed });
    const template = first.then((url) => learnTemplate(client, bucket, key, url));
    byBucket.set(bucket, template);
    template.catch(() => byBucket.delete(bucket)); // a failed first signing must not stick
    return first;
  }
  const t = await known;
  const presigned = await t.signer.presign(
    { method: request.method, protocol: t.protocol, hostname: t.hostname, port: t.port, path: `${t.pathPrefix}/${key}`, query: request.query, headers: { ...request.headers, host: t.host } },
    { ...opts, signingRegion: t.region, signingService: 's3', signableHeaders: signed, unhoistableHeaders: signed },
  );
  return formatUrl(presigned);
}

export interface GetUrlOptions extends SignOptions {
  contentDisposition?: string;
  contentType?: string;
}

/** A presigned GetObject URL (`signUrl`), naming the file and its type in the response headers. */
export async function signGetUrl(client: S3Client, bucket: string, key: string, opts: GetUrlOptions): Promise<string> {
  const query: Record<string, string> = { 'x-id': 'GetObject' };
  if (opts.contentDisposition !== undefined) query['response-content-disposition'] = opts.contentDisposition;
  if (opts.contentType !== undefined) query['response-content-type'] = opts.contentType;
  const viaSdk = (o: RequestPresigningArguments) =>
    getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentDisposition: opts.contentDisposition, ResponseContentType: opts.contentType }), o);
  return signUrl(client, bucket, key, viaSdk, { method: 'GET', query }, { expiresIn: opts.expiresIn, signingDate: opts.signingDate });
}

export async function presignGet(key: string, filename: string, contentType?: string): Promise<string> {
  return signGetUrl(presigner, env.bucket, key, {
    expiresIn: env.presignGetTtl,
    contentDisposition: `attachment; filename="${filename.replace(/["\\]/g, '_')}"`,
    contentType,
  });
}

const isS3Error = (err: unknown, ...names: string[]): boolean =>
  err instanceof S3ServiceException && (names.includes(err.name) || names.includes(String(err.$metadata.httpStatusCode)));

export interface StoredObject {
  size: number;
  /** Base64 SHA-256 S3 verified on arrival; composite objects carry `-<parts>`. */
  checksumSha256?: string;
  metadata: Record<string, string>;
}

export async function headBlob(key: string): Promise<StoredObject | undefined> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: env.bucket, Key: key, ChecksumMode: 'ENABLED' }));
    return { size: out.ContentLength ?? 0, checksumSha256: out.ChecksumSHA256, metadata: out.Metadata ?? {} };
  } catch (err) {
    if (isS3Error(err, 'NotFound', 'NoSuchKey', '404')) return undefined;
    throw err;
  }
}

export interface ObjectDigest {
  size: number;
  sha256: string;
}

let arrivedDigests: ((key: string) => Promise<ObjectDigest | undefined>) | undefined;

/**
 * Local mode only: where a completed object's digest may be known without reading it back (its S3 front hashes
 * multipart parts as they arrive, local/arrivals.ts). Never set on AWS, where the service hashes what S3 holds.
 */
export function useArrivedDigests(source: ((key: string) => Promise<ObjectDigest | undefined>) | undefined): void {
  arrivedDigests = source;
}

/** The digest of `key`'s stored bytes computed as they arrived, if any (`useArrivedDigests`). */
export async function arrivedDigest(key: string): Promise<ObjectDigest | undefined> {
  return arrivedDigests?.(key);
}

/** Streams the object through SHA-256: the service's own check of what arrived. */
export async function hashBlob(key: string): Promise<ObjectDigest | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: env.bucket, Key: key }));
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of out.Body as Readable) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    return { size, sha256: hash.digest('hex') };
  } catch (err) {
    if (isS3Error(err, 'NotFound', 'NoSuchKey', '404')) return undefined;
    throw err;
  }
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
  checksumSha256?: string;
}

/** The parts that arrived, or `undefined` when the upload no longer exists (completed or aborted). */
export async function listParts(key: string, uploadId: string): Promise<UploadedPart[] | undefined> {
  const parts: UploadedPart[] = [];
  let marker: string | undefined;
  try {
    do {
      const out = await s3.send(
        new ListPartsCommand({ Bucket: env.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
      );
      for (const p of out.Parts ?? []) {
        parts.push({ partNumber: p.PartNumber ?? 0, etag: p.ETag ?? '', size: p.Size ?? 0, checksumSha256: p.ChecksumSHA256 });
      }
      marker = out.IsTruncated ? out.NextPartNumberMarker : undefined;
    } while (marker);
  } catch (err) {
    if (isS3Error(err, 'NoSuchUpload', '404')) return undefined;
    throw err;
  }
  return parts;
}

export type CompleteOutcome = 'completed' | 'exists' | 'gone';

/** Completes create-only: `exists` when the key is already taken (a concurrent commit completed it), `gone` when the upload is no more. */
export async function completeMultipartUpload(key: string, uploadId: string, parts: UploadedPart[]): Promise<CompleteOutcome> {
  try {
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: env.bucket,
        Key: key,
        UploadId: uploadId,
        IfNoneMatch: '*',
        MultipartUpload: {
          Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, ChecksumSHA256: p.checksumSha256 })),
        },
      }),
    );
    return 'completed';
  } catch (err) {
    if (isS3Error(err, 'PreconditionFailed', 'ConditionalRequestConflict', '412')) return 'exists';
    if (isS3Error(err, 'NoSuchUpload')) return 'gone';
    throw err;
  }
}

export async function abortMultipartUpload(key: string, uploadId: string): Promise<void> {
  try {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: env.bucket, Key: key, UploadId: uploadId }));
  } catch (err) {
    if (!isS3Error(err, 'NoSuchUpload', '404')) throw err;
  }
}

/** Places or lifts the S3 legal hold on a blob object (buckets with Object Lock). */
export async function setLegalHold(key: string, on: boolean): Promise<void> {
  await s3.send(new PutObjectLegalHoldCommand({ Bucket: env.bucket, Key: key, LegalHold: { Status: on ? 'ON' : 'OFF' } }));
}

/** Lifts an object's legal hold before it is deleted; `false` when S3 refused. An object already gone has no hold. */
export async function liftLegalHold(key: string): Promise<boolean> {
  try {
    await setLegalHold(key, false);
    return true;
  } catch (err) {
    return isS3Error(err, 'NotFound', 'NoSuchKey', '404');
  }
}
