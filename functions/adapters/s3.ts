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
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { blobKey } from '../../contract/keys.ts';
import type { PartUrl, PresignedRequest } from '../../contract/schemas.ts';
import { env } from '../shared/env.ts';
import { tracer } from '../shared/observability.ts';

const base: S3ClientConfig = {
  // Checksums are the client's declared digests, signed into the URL; the SDK must not add its own CRC32.
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
};

/** The client the service talks to S3 with. */
export const s3 = tracer.captureAWSv3Client(new S3Client(env.s3Endpoint ? { ...base, endpoint: env.s3Endpoint, forcePathStyle: true } : base));

/**
 * The client that signs URLs for uploaders and downloaders (local mode: its verifying front). On AWS a
 * client of its own, not traced: it sends nothing, and a trace header must not be signed into a URL.
 */
export const presigner = env.s3PublicEndpoint
  ? new S3Client({ ...base, endpoint: env.s3PublicEndpoint, forcePathStyle: true })
  : env.s3Endpoint
    ? s3
    : new S3Client(base);

/** Metadata written with every upload, so the ObjectCreated job knows which version waits for the blob. */
export const VERSION_META = 'arca-version';

export const hexToBase64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

/** Presigned single PUT: key, length, SHA-256 and create-only are signed headers the uploader must send. */
export async function presignPut(sha256: string, size: number, waiting: string): Promise<PresignedRequest> {
  const headers = {
    'content-length': String(size),
    'if-none-match': '*',
    'x-amz-checksum-sha256': hexToBase64(sha256),
    [`x-amz-meta-${VERSION_META}`]: waiting,
  };
  const url = await getSignedUrl(
    presigner,
    new PutObjectCommand({
      Bucket: env.bucket,
      Key: blobKey(sha256),
      ContentLength: size,
      ChecksumSHA256: headers['x-amz-checksum-sha256'],
      IfNoneMatch: '*',
      Metadata: { [VERSION_META]: waiting },
    }),
    { expiresIn: env.presignPutTtl, signableHeaders: new Set(Object.keys(headers)), unhoistableHeaders: new Set(Object.keys(headers)) },
  );
  return { method: 'PUT', url, headers };
}

export async function createMultipartUpload(sha256: string, waiting: string): Promise<string> {
  const out = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: env.bucket,
      Key: blobKey(sha256),
      ChecksumAlgorithm: 'SHA256',
      Metadata: { [VERSION_META]: waiting },
    }),
  );
  if (!out.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
  return out.UploadId;
}

export async function presignPart(sha256: string, uploadId: string, partNumber: number, size: number, partSha256: string): Promise<PartUrl> {
  const headers = { 'content-length': String(size), 'x-amz-checksum-sha256': hexToBase64(partSha256) };
  const url = await getSignedUrl(
    presigner,
    new UploadPartCommand({
      Bucket: env.bucket,
      Key: blobKey(sha256),
      UploadId: uploadId,
      PartNumber: partNumber,
      ContentLength: size,
      ChecksumSHA256: headers['x-amz-checksum-sha256'],
    }),
    { expiresIn: env.presignPutTtl, signableHeaders: new Set(Object.keys(headers)), unhoistableHeaders: new Set(Object.keys(headers)) },
  );
  return { partNumber, url, headers };
}

export async function presignGet(sha256: string, filename: string, contentType?: string): Promise<string> {
  return getSignedUrl(
    presigner,
    new GetObjectCommand({
      Bucket: env.bucket,
      Key: blobKey(sha256),
      ResponseContentDisposition: `attachment; filename="${filename.replace(/["\\]/g, '_')}"`,
      ResponseContentType: contentType,
    }),
    { expiresIn: env.presignGetTtl },
  );
}

const isS3Error = (err: unknown, ...names: string[]): boolean =>
  err instanceof S3ServiceException && (names.includes(err.name) || names.includes(String(err.$metadata.httpStatusCode)));

export interface StoredObject {
  size: number;
  /** Base64 SHA-256 S3 verified on arrival; composite objects carry `-<parts>`. */
  checksumSha256?: string;
  metadata: Record<string, string>;
}

export async function headBlob(sha256: string): Promise<StoredObject | undefined> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: env.bucket, Key: blobKey(sha256), ChecksumMode: 'ENABLED' }));
    return { size: out.ContentLength ?? 0, checksumSha256: out.ChecksumSHA256, metadata: out.Metadata ?? {} };
  } catch (err) {
    if (isS3Error(err, 'NotFound', 'NoSuchKey', '404')) return undefined;
    throw err;
  }
}

/** Streams the object through SHA-256: the service's own check of what arrived. */
export async function hashBlob(sha256: string): Promise<{ size: number; sha256: string } | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: env.bucket, Key: blobKey(sha256) }));
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
export async function listParts(sha256: string, uploadId: string): Promise<UploadedPart[] | undefined> {
  const parts: UploadedPart[] = [];
  let marker: string | undefined;
  try {
    do {
      const out = await s3.send(
        new ListPartsCommand({ Bucket: env.bucket, Key: blobKey(sha256), UploadId: uploadId, PartNumberMarker: marker }),
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

/** Completes create-only: `exists` when the blob key is already taken, `gone` when the upload is no more. */
export async function completeMultipartUpload(sha256: string, uploadId: string, parts: UploadedPart[]): Promise<CompleteOutcome> {
  try {
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: env.bucket,
        Key: blobKey(sha256),
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

export async function abortMultipartUpload(sha256: string, uploadId: string): Promise<void> {
  try {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: env.bucket, Key: blobKey(sha256), UploadId: uploadId }));
  } catch (err) {
    if (!isS3Error(err, 'NoSuchUpload', '404')) throw err;
  }
}

/** Places or lifts the S3 legal hold on a blob (buckets with Object Lock). */
export async function setLegalHold(sha256: string, on: boolean): Promise<void> {
  await s3.send(new PutObjectLegalHoldCommand({ Bucket: env.bucket, Key: blobKey(sha256), LegalHold: { Status: on ? 'ON' : 'OFF' } }));
}
