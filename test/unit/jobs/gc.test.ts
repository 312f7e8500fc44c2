import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../../../contract/env.ts';
import type { DynamoLocal } from '../../fixtures/dynamo.ts';
import { BUCKET, getItem, putAsset, putVersion, sha, startJobsEnv } from './harness.ts';

const s3 = mockClient(S3Client);
let dynamo: DynamoLocal;
let doc: DynamoDBDocumentClient;
let collect: typeof import('../../../functions/jobs/gc.ts').collect;

beforeAll(async () => {
  ({ dynamo, doc } = await startJobsEnv({ [ENV.gcGraceHours]: '48' }));
  ({ collect } = await import('../../../functions/jobs/gc.ts'));
});
afterAll(async () => {
  s3.restore();
  await dynamo?.stop();
});
afterEach(() => s3.reset());

const NOW = new Date('2026-06-01T00:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3600_000);
const blobRecord = (sha256: string) => getItem(doc, dynamo.tables.blobs, { sha256 });
const putBlobRecord = (sha256: string) =>
  doc.send(new PutCommand({ TableName: dynamo.tables.blobs, Item: { sha256, size: 10, verifiedAt: hoursAgo(100).toISOString() } }));

/** What the bucket lists: two pages, as S3 returns them. */
function listing(objects: { key: string; at: Date }[]): void {
  const contents = objects.map((o) => ({ Key: o.key, LastModified: o.at }));
  s3.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({ Contents: contents.slice(0, 3), IsTruncated: true, NextContinuationToken: 'page-2' });
  s3.on(ListObjectsV2Command, { ContinuationToken: 'page-2' }).resolves({ Contents: contents.slice(3), IsTruncated: false });
  s3.on(DeleteObjectsCommand).resolves({});
}

const deletedKeys = () =>
  s3.commandCalls(DeleteObjectsCommand).flatMap((c) => {
    expect(c.args[0].input.Bucket).toBe(BUCKET);
    return (c.args[0].input.Delete?.Objects ?? []).map((o) => o.Key);
  });

describe('garbage collector (SPEC R-STORE)', () => {
  it('deletes old blobs that no live or pending version references, and only those', async () => {
    const t = dynamo.tables;
    await putAsset(doc, t, 'gc/a', 3);
    await putVersion(doc, t, { asset: 'gc/a', version: '1.0.0', status: 'published', files: [{ sha256: sha(1) }] });
    await putVersion(doc, t, { asset: 'gc/a', version: '1.1.0', status: 'pending', pendingExpiresAt: 1, files: [{ sha256: sha(2) }] });
    await putVersion(doc, t, { asset: 'gc/a', version: '1.2.0', status: 'deleted', files: [{ sha256: sha(3) }, { sha256: sha(1) }] });
    await putVersion(doc, t, { asset: 'gc/a', version: '1.3.0', status: 'ready', files: [{ sha256: sha(6) }] });
    await putBlobRecord(sha(3));
    listing([
      { key: `blobs/sha256/${sha(1)}`, at: hoursAgo(500) }, // published
      { key: `blobs/sha256/${sha(2)}`, at: hoursAgo(500) }, // pending
      { key: `blobs/sha256/${sha(3)}`, at: hoursAgo(49) }, // only a tombstone references it: garbage
      { key: `blobs/sha256/${sha(4)}`, at: hoursAgo(47) }, // unreferenced but inside the grace period
      { key: `blobs/sha256/${sha(5)}`, at: hoursAgo(1000) }, // never referenced (an abandoned upload)
      { key: 'blobs/sha256/not-a-digest', at: hoursAgo(1000) },
      { key: `blobs/sha256/${sha(6)}`, at: hoursAgo(1000) }, // ready
    ]);

    const result = await collect({ graceHours: 48, now: NOW, settleMs: 10 });

    expect(result).toEqual({ scanned: 6, candidates: 2, deleted: 2, reclaimed: 0, rejected: 0, failed: 0 });
    expect(deletedKeys().sort()).toEqual([`blobs/sha256/${sha(3)}`, `blobs/sha256/${sha(5)}`]);
    expect(await blobRecord(sha(3))).toBeUndefined();
  });

  it('keeps, and re-records, a candidate that a new version claims while the collector settles', async () => {
    const t = dynamo.tables;
    await putAsset(doc, t, 'gc/b', 0);
    await putBlobRecord(sha(8));
    listing([{ key: `blobs/sha256/${sha(8)}`, at: hoursAgo(100) }]);

    const running = collect({ graceHours: 48, now: NOW, settleMs: 1500 });
    // The collector forgets the record first, so no version created from now on counts the blob present…
    for (let i = 0; i < 100 && (await blobRecord(sha(8))); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await blobRecord(sha(8))).toBeUndefined();
    // …and a version that had read it as present just before commits during the settle delay.
    await putVersion(doc, t, { asset: 'gc/b', version: '1.0.0', status: 'ready', files: [{ sha256: sha(8) }] });

    expect(await running).toEqual({ scanned: 1, candidates: 1, deleted: 0, reclaimed: 1, rejected: 0, failed: 0 });
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
    expect(await blobRecord(sha(8))).toMatchObject({ sha256: sha(8), size: 10 });
  });

  it('reports deletions S3 refuses, for the next run to retry', async () => {
    listing([{ key: `blobs/sha256/${sha(9)}`, at: hoursAgo(100) }]);
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: `blobs/sha256/${sha(9)}`, Code: 'AccessDenied' }] });
    expect(await collect({ graceHours: 48, now: NOW, settleMs: 10 })).toEqual({ scanned: 1, candidates: 1, deleted: 0, reclaimed: 0, rejected: 0, failed: 1 });
  });

  it('deletes a rejected blob an hour after the rejection, referenced or not, unless a commit verified it since', async () => {
    const t = dynamo.tables;
    await putAsset(doc, t, 'gc/c', 1);
    await putVersion(doc, t, { asset: 'gc/c', version: '1.0.0', status: 'pending', pendingExpiresAt: 1, files: [{ sha256: sha(11) }, { sha256: sha(12) }] });
    const reject = (sha256: string, at: Date, verified = false) =>
      doc.send(
        new PutCommand({
          TableName: t.blobs,
          Item: { sha256, rejectedAt: at.toISOString(), rejectedReason: 'stored bytes hash to …', ...(verified ? { size: 10, verifiedAt: NOW.toISOString() } : {}) },
        }),
      );
    await reject(sha(11), hoursAgo(2)); // the pending version's bytes were wrong: the key must be freed
    await reject(sha(12), hoursAgo(0.5)); // too recent: stays, its record explains the rejection
    await reject(sha(13), hoursAgo(5), true); // verified since: never a rejection to act on
    listing([
      { key: `blobs/sha256/${sha(12)}`, at: hoursAgo(1) },
      { key: `blobs/sha256/${sha(13)}`, at: hoursAgo(5) },
    ]);

    expect(await collect({ graceHours: 48, now: NOW, settleMs: 10 })).toEqual({ scanned: 2, candidates: 0, deleted: 0, reclaimed: 0, rejected: 1, failed: 0 });
    expect(deletedKeys()).toEqual([`blobs/sha256/${sha(11)}`]);
    expect(await blobRecord(sha(11))).toBeUndefined();
    expect(await blobRecord(sha(12))).toMatchObject({ rejectedReason: 'stored bytes hash to …' });
    expect(await blobRecord(sha(13))).toMatchObject({ verifiedAt: NOW.toISOString() });
  });

  it('does nothing when nothing is old and unreferenced', async () => {
    listing([{ key: `blobs/sha256/${sha(10)}`, at: hoursAgo(2) }]);
    expect(await collect({ graceHours: 48, now: NOW, settleMs: 10 })).toEqual({ scanned: 1, candidates: 0, deleted: 0, reclaimed: 0, rejected: 0, failed: 0 });
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
  });
});
