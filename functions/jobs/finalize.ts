/**
 * S3 ObjectCreated → finalize the version (or commit the run output) waiting for the blob (R-UPLOAD:
 * "whichever comes first"). The upload's metadata names what waits; finalizing is idempotent, so a commit that got there first,
 * or files still missing, leave nothing to do. It hashes its blob whatever the size: commit leaves files
 * over the inline limit to it.
 */
import type { S3Event } from 'aws-lambda';
import { SYSTEM_ACTOR } from '../../contract/eventNames.ts';
import { parseBlobKey } from '../../contract/keys.ts';
import { VERSION_META } from '../adapters/objectHeaders.ts';
import { headBlob } from '../adapters/s3.ts';
import { finalizeVersion } from '../domain/finalize.ts';
import { commitOutput } from '../domain/outputs.ts';
import { parseWaitingTag } from '../domain/uploads.ts';
import { ArcaError } from '../shared/errors.ts';
import { logger } from '../shared/logger.ts';
import { metrics } from '../shared/observability.ts';

/** Outcomes that are normal for an event: other files still uploading, a tombstoned version, bad bytes. */
const EXPECTED = new Set(['UploadIncomplete', 'NotFound', 'ChecksumMismatch', 'ValidationError']);

/** `key`: the object that arrived (an upload's own key, contract/keys.ts). */
export async function finalizeBlob(key: string): Promise<'ready' | 'waiting' | 'skipped'> {
  const object = await headBlob(key);
  const waiting = object ? parseWaitingTag(object.metadata[VERSION_META] ?? '') : undefined;
  if (!waiting) return 'skipped';
  try {
    if (waiting.kind === 'output') return (await commitOutput(waiting.flow, waiting.run, waiting.name, key)).complete ? 'ready' : 'waiting';
    const { verifying } = await finalizeVersion(waiting.asset, waiting.version, SYSTEM_ACTOR, key);
    return verifying.length === 0 ? 'ready' : 'waiting';
  } catch (err) {
    if (err instanceof ArcaError && EXPECTED.has(err.code)) {
      logger.info('blob arrived; version not finalized yet', { key, ...waiting, code: err.code });
      return 'waiting';
    }
    throw err;
  }
}

export async function handler(event: S3Event): Promise<void> {
  try {
    for (const record of event.Records) {
      const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
      if (parseBlobKey(key)) await finalizeBlob(key);
    }
  } finally {
    // Finalizing counts checksum mismatches (functions/shared/metrics.ts).
    metrics.publishStoredMetrics();
  }
}
