/**
 * Scheduled garbage collector (SPEC R-STORE): deletes blob objects that no live or pending version's file
 * entries, nor an unexpired run output's, name, once they are older than the grace period. Every upload has
 * an object of its own (contract/keys.ts), so this also collects the objects of uploads that never
 * verified and the duplicates of a digest uploaded twice. It is the only principal the bucket policy lets delete.
 *
 * An object can gain a referrer while the collector works: a version created with its digest counts it
 * `present` from the digest's Blobs record, which names the object. So deletion is two-phase: (1) candidates
 * — unreferenced in a first scan and older than the grace period — lose the digest's record if it names
 * them, so no new version can count them present; (2) after a settle delay longer than any API request, a
 * second scan; a candidate a version claimed meanwhile gets its record back, the rest are deleted. The bucket
 * is versioned, so a deletion leaves a delete marker and the bytes stay recoverable until the noncurrent
 * version expires (30 days).
 *
 * An object the service rejected (other bytes than its digest) is useless to every version, though it
 * blocks nobody but its uploader (whose key it occupies). It goes without waiting for the grace period or
 * for its version to expire: one hour after the rejection.
 *
 * With objectLock, an object's legal hold is lifted just before it is deleted (`withoutHolds`).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { blobKeyOfId } from '../../contract/keys.ts';
import { blobPages, deleteBlobObjects, forgetBlob, forgetRejected, referencedKeys, rejectedObjects, restoreBlob, type StoredBlob } from '../adapters/jobsRepo.ts';
import type { Item } from '../adapters/dynamo.ts';
import { liftLegalHold } from '../adapters/s3.ts';
import { ENV } from '../../contract/env.ts';
import { env } from '../shared/env.ts';
import { logger } from '../shared/logger.ts';
import { metrics } from '../shared/observability.ts';

/** The API functions time out after 15 s; a create that read a Blobs record has written its version by then. */
const DEFAULT_SETTLE_MS = 20_000;
/** How long a rejected blob stays, so whoever uploaded it can read why in its record. */
const REJECTED_DELAY_MS = 3600_000;
/** Deletions per run; the next run continues (a run must end within the function's timeout). */
const MAX_CANDIDATES = 10_000;

export interface CollectOptions {
  graceHours: number;
  now?: Date;
  settleMs?: number;
}

export interface CollectResult {
  /** Blob objects listed. */
  scanned: number;
  /** Unreferenced and old enough in the first scan. */
  candidates: number;
  deleted: number;
  /** Candidates a version claimed during the run: kept, record restored. */
  reclaimed: number;
  /** Rejected objects (other bytes than their digest) deleted. */
  rejected: number;
  /** Deletions S3 refused (retried next run). */
  failed: number;
}

/** Legal holds lifted at once (one PutObjectLegalHold request per object). */
const HOLD_BATCH = 16;

/**
 * With objectLock, each object's legal hold is lifted first. Published versions hold their objects, and a version
 * tombstoned with its asset keeps its holds (nothing else lifts them). A delete in the versioned bucket only
 * adds a delete marker, so a held object version would outlive the noncurrent-version expiry for ever. An object
 * whose hold S3 would not lift is not deleted (it counts as failed and the next run tries again).
 */
async function withoutHolds(keys: readonly string[]): Promise<{ free: string[]; held: string[] }> {
  if (!env.objectLock) return { free: [...keys], held: [] };
  const free: string[] = [];
  const held: string[] = [];
  for (let i = 0; i < keys.length; i += HOLD_BATCH) {
    const batch = keys.slice(i, i + HOLD_BATCH);
    const lifted = await Promise.all(batch.map(liftLegalHold));
    batch.forEach((key, n) => (lifted[n] ? free : held).push(key));
  }
  if (held.length > 0) logger.error('S3 refused to lift legal holds; those objects are kept', { held });
  return { free, held };
}

/** Deletes objects, 1,000 per request, after lifting their holds; returns how many went and how many S3 refused. */
async function deleteObjects(keys: readonly string[]): Promise<{ deleted: number; failed: number }> {
  const { free, held } = await withoutHolds(keys);
  let failed = held.length;
  for (let i = 0; i < free.length; i += 1000) {
    const refused = await deleteBlobObjects(free.slice(i, i + 1000));
    failed += refused.length;
    if (refused.length > 0) logger.error('S3 refused to delete blobs', { refused });
  }
  return { deleted: keys.length - failed, failed };
}

export async function collect(options: CollectOptions): Promise<CollectResult> {
  const now = (options.now ?? new Date()).getTime();
  const cutoff = now - options.graceHours * 3600_000;
  const result: CollectResult = { scanned: 0, candidates: 0, deleted: 0, reclaimed: 0, rejected: 0, failed: 0 };

  const rejected: string[] = [];
  for (const id of await rejectedObjects(new Date(now - REJECTED_DELAY_MS).toISOString())) {
    if (await forgetRejected(id)) rejected.push(blobKeyOfId(id));
  }
  const gone = await deleteObjects(rejected);
  result.rejected = gone.deleted;
  result.failed += gone.failed;

  const firstScan = await referencedKeys();
  const candidates: StoredBlob[] = [];
  for await (const page of blobPages()) {
    result.scanned += page.length;
    for (const blob of page) {
      if (candidates.length < MAX_CANDIDATES && blob.lastModified.getTime() < cutoff && !firstScan.has(blob.key)) candidates.push(blob);
    }
  }
  result.candidates = candidates.length;
  if (candidates.length === 0) return result;

  const forgotten = new Map<string, Item | undefined>();
  for (const blob of candidates) forgotten.set(blob.key, await forgetBlob(blob.sha256, blob.key));
  await new Promise((r) => setTimeout(r, options.settleMs ?? DEFAULT_SETTLE_MS));

  const secondScan = await referencedKeys();
  const doomed: string[] = [];
  for (const [key, record] of forgotten) {
    if (!secondScan.has(key)) doomed.push(key);
    else {
      result.reclaimed++;
      if (record) await restoreBlob(record);
    }
  }
  const collected = await deleteObjects(doomed);
  result.deleted = collected.deleted;
  result.failed += collected.failed;
  return result;
}

/** The grace period, written by the stack; longer than a pending version lives (lib/registry.ts). */
function graceHours(): number {
  const raw = process.env[ENV.gcGraceHours];
  const hours = Number(raw);
  if (!raw || !Number.isInteger(hours) || hours < 1) throw new Error(`environment variable ${ENV.gcGraceHours} must be a positive integer, got "${raw}"`);
  return hours;
}

const GRACE_HOURS = graceHours();

export const handler = async (): Promise<CollectResult> => {
  const result = await collect({ graceHours: GRACE_HOURS });
  logger.info('garbage collection finished', { ...result });
  metrics.addMetric('BlobsDeleted', MetricUnit.Count, result.deleted);
  metrics.addMetric('BlobsReclaimed', MetricUnit.Count, result.reclaimed);
  metrics.addMetric('RejectedBlobsDeleted', MetricUnit.Count, result.rejected);
  metrics.publishStoredMetrics();
  return result;
};
