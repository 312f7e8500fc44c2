/**
 * Commit (R-UPLOAD, R-STORE): find out what arrived, complete multipart uploads, verify every unverified
 * file's bytes, and make the version `ready` once all are verified. Shared by the commit route and the
 * ObjectCreated job; idempotent, so whichever comes first wins and the other returns the same version.
 *
 * A file whose check needs a whole-object hash and is larger than `inlineVerifyMaxBytes` is not hashed in
 * the API request (API Gateway ends requests at 29 s): completing its upload raises the ObjectCreated event,
 * whose job hashes it, and commit reports it `verifying` until the job's verdict is recorded on the blob.
 * Local mode's S3 front may know a completed object's digest already (`arrivedDigest`): then nothing is read.
 */
import { SYSTEM_ACTOR } from '../../contract/eventNames.ts';
import { parseBlobKey } from '../../contract/keys.ts';
import { markRejected, markVerified, rejection, verifiedBlobs } from '../adapters/blobsRepo.ts';
import {
  abortMultipartUpload,
  arrivedDigest,
  completeMultipartUpload,
  hashBlob,
  headBlob,
  listParts,
  type UploadedPart,
} from '../adapters/s3.ts';
import { hexToBase64 } from '../adapters/objectHeaders.ts';
import { indexAttributes } from '../adapters/versionIndexes.ts';
import { getVersion, updateVersion } from '../adapters/versionsRepo.ts';
import { env } from '../shared/env.ts';
import { ArcaError, conflict, notFound } from '../shared/errors.ts';
import { logger } from '../shared/logger.ts';
import { count } from '../shared/metrics.ts';
import { CONTENTION_ATTEMPTS, contended, contentionBackoff } from './contention.ts';
import { compositeChecksum, partCount, partDigests } from './files.ts';
import { isExpired, nowIso, objectKeyOf, type StoredFile, type VersionItem } from './model.ts';

type Arrival =
  | { kind: 'verified' }
  | { kind: 'verifying' }
  | { kind: 'missing'; parts?: number[] }
  | { kind: 'mismatch'; reason: string };

/** A file's object's record id in the Blobs table (its key below `blobs/sha256/`). */
const recordId = (file: StoredFile): string => parseBlobKey(objectKeyOf(file))?.id ?? file.sha256;

/**
 * Checks the file's own object (its upload's key), hashing it only up to `hashUpTo` bytes. A wrong object
 * is recorded as rejected, never trusted; it occupies only its uploader's key (contract/keys.ts), so an
 * honest upload of the same digest, to a key of its own, verifies at once. Only the garbage collector deletes.
 */
async function verifyObject(file: StoredFile, hashUpTo: number): Promise<Arrival> {
  const key = objectKeyOf(file);
  // Local mode: a digest computed over the stored bytes as they arrived costs no read, whatever the size.
  const arrived = await arrivedDigest(key);
  if (arrived) hashUpTo = Infinity;
  let mismatch: string | undefined;
  const s3Verifies = env.verifyMode === 's3-checksum';
  if (s3Verifies || file.size > hashUpTo) {
    const head = await headBlob(key);
    if (!head) return { kind: 'missing' };
    if (head.size !== file.size) mismatch = `stored ${head.size} bytes, declared ${file.size}`;
    else if (s3Verifies && head.checksumSha256 === hexToBase64(file.sha256)) return { kind: 'verified' };
    else if (s3Verifies && file.parts && head.checksumSha256 !== undefined && head.checksumSha256 !== compositeChecksum(file)) {
      mismatch = 'the parts stored are not the parts declared';
    }
  }
  if (mismatch === undefined && file.size > hashUpTo) {
    // The ObjectCreated job hashes it; its verdict, once there, is on the object's record.
    const rejected = await rejection(recordId(file));
    return rejected === undefined ? { kind: 'verifying' } : { kind: 'mismatch', reason: rejected };
  }
  if (mismatch === undefined) {
    // A composite checksum vouches for the parts only; the whole-file digest is checked by hashing.
    const hashed = arrived ?? (await hashBlob(key));
    if (!hashed) return { kind: 'missing' };
    if (hashed.size !== file.size) mismatch = `stored ${hashed.size} bytes, declared ${file.size}`;
    else if (hashed.sha256 !== file.sha256) mismatch = `stored bytes hash to ${hashed.sha256}`;
    else return { kind: 'verified' };
  }
  logger.warn('stored bytes do not match the declared digest', { sha256: file.sha256, key, mismatch });
  await markRejected(recordId(file), mismatch, nowIso());
  return { kind: 'mismatch', reason: mismatch };
}

async function arrive(file: StoredFile, hashUpTo: number): Promise<Arrival> {
  if (!file.uploadId || !file.partSize) return verifyObject(file, hashUpTo);
  const key = objectKeyOf(file);
  const listed = await listParts(key, file.uploadId);
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
      // A concurrent commit may have completed the upload between its listing and ours.
      const existing = await headBlob(key);
      if (!existing) return { kind: 'missing', parts: missing };
      await abortMultipartUpload(key, file.uploadId);
    } else if ((await completeMultipartUpload(key, file.uploadId, parts)) === 'exists') {
      await abortMultipartUpload(key, file.uploadId);
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

export interface Verified {
  /** Files whose bytes arrived and are being hashed by the ObjectCreated job (empty: every file is verified). */
  verifying: StoredFile[];
  /** Digest → the object holding its verified bytes, for `verifiedEntry`. */
  keys: Map<string, string>;
}

/**
 * Checks the unverified files' bytes (versions and run outputs alike), each file's own object: records
 * verified digests, throws ChecksumMismatch or UploadIncomplete, and returns the files still being hashed by
 * the ObjectCreated job and where each verified digest's bytes are.
 */
export async function verifyFiles(files: readonly StoredFile[], hashUpTo: (f: StoredFile) => number): Promise<Verified> {
  const unverified = files.filter((f) => !f.verified);
  const keys = await verifiedBlobs(unverified.map((f) => f.sha256));
  // Bytes that arrived through another upload meanwhile: this file's own upload is not needed any more.
  await Promise.all(unverified.filter((f) => f.uploadId && keys.has(f.sha256)).map((f) => abortMultipartUpload(objectKeyOf(f), f.uploadId as string)));
  const toCheck = [...new Map(unverified.filter((f) => !keys.has(f.sha256)).map((f) => [objectKeyOf(f), f])).values()];
  const arrivals = new Map(
    (await pool(toCheck, 8, async (f) => [objectKeyOf(f), await arrive(f, hashUpTo(f))] as const)).map(([key, a]) => [key, a]),
  );
  const arrival = (f: StoredFile) => arrivals.get(objectKeyOf(f));
  // Recorded whatever else the files still wait for, so no later commit or job hashes them again.
  const verifiedNow = toCheck.filter((f) => arrival(f)?.kind === 'verified');
  await markVerified(verifiedNow.map((f) => ({ sha256: f.sha256, size: f.size, key: objectKeyOf(f) })), nowIso());
  for (const f of verifiedNow) keys.set(f.sha256, objectKeyOf(f));
  const pending = unverified.filter((f) => !keys.has(f.sha256));
  const mismatched = pending.filter((f) => arrival(f)?.kind === 'mismatch');
  if (mismatched.length > 0) {
    count('ChecksumMismatches');
    throw new ArcaError('ChecksumMismatch', `stored bytes do not match the declared size or SHA-256 of ${mismatched.map((f) => f.path).join(', ')}; upload them again`, {
      files: mismatched.map((f) => {
        const a = arrival(f);
        return { path: f.path, sha256: f.sha256, reason: a?.kind === 'mismatch' ? a.reason : undefined };
      }),
    });
  }
  const missing = pending.filter((f) => arrival(f)?.kind === 'missing');
  if (missing.length > 0) {
    throw conflict('UploadIncomplete', `bytes have not arrived for ${missing.map((f) => f.path).join(', ')}`, {
      missing: missing.map((f) => {
        const a = arrival(f);
        return { path: f.path, sha256: f.sha256, ...(a?.kind === 'missing' && a.parts ? { parts: a.parts } : {}) };
      }),
    });
  }
  const verifying = pending.filter((f) => arrival(f)?.kind === 'verifying');
  if (verifying.length === 0) return { verifying: [], keys };
  // Read again after recording this run's verdicts: of two jobs hashing sibling files at once, at least
  // the later one then sees both verified and finishes.
  for (const [sha, key] of await verifiedBlobs(verifying.map((f) => f.sha256), true)) keys.set(sha, key);
  return { verifying: verifying.filter((f) => !keys.has(f.sha256)), keys };
}

/**
 * A file's stored entry once its bytes are verified: the upload bookkeeping is dropped and the entry names
 * the object holding the verified bytes (its own upload's, or another upload's of the same digest).
 */
export const verifiedEntry =
  (keys: ReadonlyMap<string, string>) =>
  ({ uploadId: _u, parts: _p, ...f }: StoredFile): StoredFile =>
    f.verified ? f : { ...f, key: keys.get(f.sha256) ?? f.key, verified: true };

/**
 * `by`: who committed (the ObjectCreated job acts as the service, SYSTEM_ACTOR). `arrived`: the object key the
 * ObjectCreated job was raised for, hashed whatever its size; any other file is hashed only up to the
 * inline limit.
 */
export async function finalizeVersion(asset: string, version: string, by = SYSTEM_ACTOR, arrived?: string): Promise<Finalized> {
  const hashUpTo = (f: StoredFile) => (objectKeyOf(f) === arrived ? Infinity : env.inlineVerifyMaxBytes);
  for (let attempt = 0; attempt < CONTENTION_ATTEMPTS; attempt++) {
    const item = live(await getVersion(asset, version, true), asset, version);
    if (done(item)) return { item, verifying: [] };
    const { verifying: still, keys } = await verifyFiles(item.files, hashUpTo);
    if (still.length > 0) return { item, verifying: still };
    const now = nowIso();
    const status = item.status === 'pending' ? 'ready' : item.status;
    const { updated, current } = await updateVersion(
      item,
      {
        status,
        files: item.files.map(verifiedEntry(keys)),
        pendingFiles: 0,
        ...indexAttributes(item.asset, item.version, status),
        pendingExpiresAt: undefined,
        updatedAt: now,
        updatedBy: by,
      },
      { filesRev: item.filesRev ?? 0, statusIn: ['pending', 'ready'] },
    );
    if (updated) return { item: updated, verifying: [] };
    if (current && done(current)) return { item: current, verifying: [] };
    await contentionBackoff(attempt);
  }
  // The bytes are verified and recorded; only the version item kept changing (edits, new formats).
  throw contended('VersionNotReady', `${asset}:${version} kept changing while it was being committed; commit again`, { asset, version });
}
