/**
 * The blob store: what commit needs to verify arrivals (R-STORE), multipart uploads, legal holds. S3 errors
 * are translated here; callers see plain results. Presigned URLs need no client: presign.ts.
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
  PutObjectLegalHoldCommand,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { env } from '../shared/env.ts';
import { VERSION_META } from './objectHeaders.ts';
import { traceClient } from '../shared/observability.ts';

export const CLIENT_BASE: S3ClientConfig = {
  // Checksums are the uploader's declared digests; the SDK must not add its own CRC32.
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
};

/** The client the service talks to S3 with. */
export const s3 = traceClient(new S3Client(env.s3Endpoint ? { ...CLIENT_BASE, endpoint: env.s3Endpoint, forcePathStyle: true } : CLIENT_BASE));

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
