/**
 * Commit (R-UPLOAD, R-STORE): find out what arrived, complete multipart uploads, verify every unverified
 * file's bytes, and make the version `ready` once all are verified. Shared by the commit route and the
 * ObjectCreated job; idempotent, so whichever comes first wins and the other returns the same version.
 *
 * A file whose check needs a whole-object hash and is larger than `inlineVerifyMaxBytes` is not hashed in
 * the API request (API Gateway ends requests at 29 s): completing its upload raises the ObjectCreated event,
 * whose job hashes it, and commit reports it `verifying` until the job's verdict is recorded on the blob.
 */
import { SYSTEM_ACTOR } from '../../contract/events.ts';
import { markRejected, markVerified, rejection, verifiedBlobs } from '../adapters/blobsRepo.ts';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  hashBlob,
  headBlob,
  hexToBase64,
  listParts,
  type UploadedPart,
} from '../adapters/s3.ts';
import { getVersion, indexAttributes, updateVersion } from '../adapters/versionsRepo.ts';
import { env } from '../shared/env.ts';
import { ArcaError, conflict, notFound } from '../shared/errors.ts';
import { logger } from '../shared/logger.ts';
import { count } from '../shared/metrics.ts';
import { compositeChecksum, partCount, partDigests } from './files.ts';
import { isExpired, nowIso, type StoredFile, type VersionItem } from './model.ts';

type Arrival =
  | { kind: 'verified' }
  | { kind: 'verifying' }
  | { kind: 'missing'; parts?: number[] }
  | { kind: 'mismatch'; reason: string };

/**
 * Checks the object stored under the file's digest, hashing it only up to `hashUpTo` bytes. A wrong object
 * is recorded as rejected, never trusted; only the garbage collector deletes (R-SEC), so the key takes the
 * right bytes once it has collected it.
 */
async function verifyObject(file: StoredFile, hashUpTo: number): Promise<Arrival> {
  let mismatch: string | undefined;
  const s3Verifies = env.verifyMode === 's3-checksum';
  if (s3Verifies || file.size > hashUpTo) {
    const head = await headBlob(file.sha256);
    if (!head) return { kind: 'missing' };
    if (head.size !== file.size) mismatch = `stored ${head.size} bytes, declared ${file.size}`;
    else if (s3Verifies && head.checksumSha256 === hexToBase64(file.sha256)) return { kind: 'verified' };
    else if (s3Verifies && file.parts && head.checksumSha256 !== undefined && head.checksumSha256 !== compositeChecksum(file)) {
      mismatch = 'the parts stored are not the parts declared';
    }
  }
  if (mismatch === undefined && file.size > hashUpTo) {
    // The ObjectCreated job hashes it; its verdict, once there, is on the blob's record.
    const rejected = await rejection(file.sha256);
    return rejected === undefined ? { kind: 'verifying' } : { kind: 'mismatch', reason: rejected };
  }
  if (mismatch === undefined) {
    // A composite checksum vouches for the parts only; the whole-file digest is checked by hashing.
    const hashed = await hashBlob(file.sha256);
    if (!hashed) return { kind: 'missing' };
    if (hashed.size !== file.size) mismatch = `stored ${hashed.size} bytes, declared ${file.size}`;
    else if (hashed.sha256 !== file.sha256) mismatch = `stored bytes hash to ${hashed.sha256}`;
    else return { kind: 'verified' };
  }
  logger.warn('stored bytes do not match the declared digest', { sha256: file.sha256, mismatch });
  await markRejected(file.sha256, mismatch, nowIso());
  return { kind: 'mismatch', reason: mismatch };
}

async function arrive(file: StoredFile, hashUpTo: number): Promise<Arrival> {
  if (!file.uploadId || !file.partSize) return verifyObject(file, hashUpTo);
  const listed = await listParts(file.sha256, file.uploadId);
  if (listed !== undefined) {
    const digests = partDigests(file).map(hexToBase64);
    const byNumber = new Map(listed.map((p) => [p.partNumber, p]));
    const parts: UploadedPart[] = [];
    const missing: number[] = [];
    for (let n = 1; n <= partCount(file.size, file.partSize); n++) {
      const p = byNumber.get(n);
      // A part counts only under the checksum that was signed into its URL.
      if (p && (p.checksumSha256 === undefined || p.checksumSha256 === digests[n - 1])) parts.push(p);
      else missing.push(n);
    }
    if (missing.length > 0) {
      // The blob may have arrived through another version's upload meanwhile.
      const existing = await headBlob(file.sha256);
      if (!existing) return { kind: 'missing', parts: missing };
      await abortMultipartUpload(file.sha256, file.uploadId);
    } else if ((await completeMultipartUpload(file.sha256, file.uploadId, parts)) === 'exists') {
      await abortMultipartUpload(file.sha256, file.uploadId);
    }
  }
  return verifyObject(file, hashUpTo);
}

/** Runs `fn` over `items`, at most `width` at a time. */
async function pool<T, R>(items: readonly T[], width: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

const live = (v: VersionItem | undefined, asset: string, version: string): VersionItem => {
  if (!v || v.status === 'deleted' || isExpired(v)) throw notFound(`${asset} has no version ${version}`, { asset, version });
  return v;
};

const done = (v: VersionItem) => v.status !== 'pending' && v.pendingFiles === 0 && v.files.every((f) => f.verified);

export interface Finalized {
  item: VersionItem;
  /** Files whose bytes arrived and are being hashed by the ObjectCreated job: the version is still pending. */
  verifying: StoredFile[];
}

/**
 * Checks the unverified files' bytes (versions and run outputs alike): records verified blobs, throws
 * ChecksumMismatch or UploadIncomplete, and returns the files still being hashed by the ObjectCreated job
 * (empty: every file is verified).
 */
export async function verifyFiles(files: readonly StoredFile[], hashUpTo: (f: StoredFile) => number): Promise<StoredFile[]> {
  const unverified = files.filter((f) => !f.verified);
  const already = await verifiedBlobs(unverified.map((f) => f.sha256));
  // Bytes that arrived through another upload meanwhile: this file's own upload is not needed any more.
  await Promise.all(unverified.filter((f) => f.uploadId && already.has(f.sha256)).map((f) => abortMultipartUpload(f.sha256, f.uploadId as string)));
  const toCheck = [...new Map(unverified.filter((f) => !already.has(f.sha256)).map((f) => [f.sha256, f])).values()];
  const arrivals = new Map(
    (await pool(toCheck, 8, async (f) => [f.sha256, await arrive(f, hashUpTo(f))] as const)).map(([sha, a]) => [sha, a]),
  );
  // Recorded whatever else the files still wait for, so no later commit or job hashes them again.
  await markVerified(
    toCheck.filter((f) => arrivals.get(f.sha256)?.kind === 'verified').map((f) => ({ sha256: f.sha256, size: f.size })),
    nowIso(),
  );
  const mismatched = unverified.filter((f) => arrivals.get(f.sha256)?.kind === 'mismatch');
  if (mismatched.length > 0) {
    count('ChecksumMismatches');
    throw new ArcaError('ChecksumMismatch', `stored bytes do not match the declared size or SHA-256 of ${mismatched.map((f) => f.path).join(', ')}; upload them again`, {
      files: mismatched.map((f) => {
        const a = arrivals.get(f.sha256);
        return { path: f.path, sha256: f.sha256, reason: a?.kind === 'mismatch' ? a.reason : undefined };
      }),
    });
  }
  const missing = unverified.filter((f) => arrivals.get(f.sha256)?.kind === 'missing');
  if (missing.length > 0) {
    throw conflict('UploadIncomplete', `bytes have not arrived for ${missing.map((f) => f.path).join(', ')}`, {
      missing: missing.map((f) => {
        const a = arrivals.get(f.sha256);
        return { path: f.path, sha256: f.sha256, ...(a?.kind === 'missing' && a.parts ? { parts: a.parts } : {}) };
      }),
    });
  }
  const verifying = unverified.filter((f) => arrivals.get(f.sha256)?.kind === 'verifying');
  if (verifying.length === 0) return [];
  // Read again after recording this run's verdicts: of two jobs hashing sibling files at once, at least
  // the later one then sees both verified and finishes.
  const since = await verifiedBlobs(verifying.map((f) => f.sha256), true);
  return verifying.filter((f) => !since.has(f.sha256));
}

/** A file's stored entry once its bytes are verified: the upload bookkeeping is dropped. */
export const verifiedEntry = ({ uploadId: _u, parts: _p, ...f }: StoredFile): StoredFile => ({ ...f, verified: true });

/**
 * `by`: who committed (the ObjectCreated job acts as the service, SYSTEM_ACTOR). `arrived`: the blob the
 * ObjectCreated job was raised for, hashed whatever its size; any other file is hashed only up to the
 * inline limit.
 */
export async function finalizeVersion(asset: string, version: string, by = SYSTEM_ACTOR, arrived?: string): Promise<Finalized> {
  const hashUpTo = (f: StoredFile) => (f.sha256 === arrived ? Infinity : env.inlineVerifyMaxBytes);
  for (let attempt = 0; attempt < 5; attempt++) {
    const item = live(await getVersion(asset, version, true), asset, version);
    if (done(item)) return { item, verifying: [] };
    const still = await verifyFiles(item.files, hashUpTo);
    if (still.length > 0) return { item, verifying: still };
    const now = nowIso();
    const status = item.status === 'pending' ? 'ready' : item.status;
    const { updated, current } = await updateVersion(
      item,
      {
        status,
        files: item.files.map(verifiedEntry),
        pendingFiles: 0,
        ...indexAttributes(item.asset, item.version, status),
        pendingExpiresAt: undefined,
        updatedAt: now,
        updatedBy: by,
      },
      { rev: item.rev, statusIn: ['pending', 'ready'] },
    );
    if (updated) return { item: updated, verifying: [] };
    if (current && done(current)) return { item: current, verifying: [] };
  }
  throw new ArcaError('Throttled', `version ${asset}:${version} kept changing during commit; retry`);
}
