/**
 * Scheduled sweeper (SPEC R-LIFE): a pending version past its TTL becomes a tombstone — the asset's live
 * count drops by one in the same transaction — and its unfinished multipart uploads are aborted.
 * Version creation also tombstones expired pending versions when it needs their room; both use the same
 * conditional writes, so whichever comes first wins and the other skips.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { expiredPendingVersions } from '../adapters/jobsRepo.ts';
import { abortMultipartUpload } from '../adapters/s3.ts';
import { tombstone } from '../adapters/versionsRepo.ts';
import { nowEpoch, nowIso, objectKeyOf, type Actor } from '../domain/model.ts';
import { logger } from '../shared/logger.ts';
import { metrics } from '../shared/observability.ts';

const SWEEPER: Actor = { principal: 'arca:sweeper', isAdmin: false, isPublisher: false };

export interface SweepResult {
  /** Versions tombstoned by this run. */
  expired: number;
  /** Expired versions that changed under the sweeper (committed, deleted, or swept by a create). */
  skipped: number;
  abortedUploads: number;
}

export async function sweep(now: number = nowEpoch()): Promise<SweepResult> {
  const result: SweepResult = { expired: 0, skipped: 0, abortedUploads: 0 };
  for await (const item of expiredPendingVersions(now)) {
    // Conditional on the status and revision read: a version whose bytes arrived meanwhile stays.
    const cancelled = await tombstone(item, SWEEPER, 'pending version expired', nowIso());
    if (cancelled) {
      result.skipped++;
      continue;
    }
    result.expired++;
    const uploads = item.files.filter((f) => f.uploadId !== undefined && !f.verified);
    await Promise.all(uploads.map((f) => abortMultipartUpload(objectKeyOf(f), f.uploadId as string)));
    result.abortedUploads += uploads.length;
    logger.info('pending version expired', { asset: item.asset, version: item.version, abortedUploads: uploads.length });
  }
  return result;
}

export const handler = async (): Promise<SweepResult> => {
  const result = await sweep();
  logger.info('sweep finished', { ...result });
  metrics.addMetric('PendingVersionsExpired', MetricUnit.Count, result.expired);
  metrics.addMetric('MultipartUploadsAborted', MetricUnit.Count, result.abortedUploads);
  metrics.publishStoredMetrics();
  return result;
};
