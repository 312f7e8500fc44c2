import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../../../contract/env.ts';
import { uploadKey, uploadNonce } from '../../../contract/keys.ts';
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

describe('garbage collector (SPEC R-STORE), objects stored before per-upload keys (blobs/sha256/<hex>)', () => {
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

describe('garbage collector, per-upload objects (blobs/sha256/<hex>/<nonce>)', () => {
  const upload = (sha256: string) => uploadKey(sha256, uploadNonce());
  const idOf = (key: string) => key.slice('blobs/sha256/'.length);
  const putVerified = (sha256: string, key: string) =>
    doc.send(new PutCommand({ TableName: dynamo.tables.blobs, Item: { sha256, size: 10, key, verifiedAt: hoursAgo(100).toISOString() } }));

  it('deletes the unreferenced upload objects of a digest and keeps the ones versions name; the digest\'s record stays on its object', async () => {
    const t = dynamo.tables;
    await putAsset(doc, t, 'gcu/a', 2);
    const [verified, duplicate, pending, abandoned] = [upload(sha(21)), upload(sha(21)), upload(sha(21)), upload(sha(21))];
    await putVerified(sha(21), verified);
    await putVersion(doc, t, { asset: 'gcu/a', version: '1.0.0', status: 'ready', files: [{ sha256: sha(21), key: verified }] });
    // Uploaded the same digest too and verified it, then was deleted: its object is a duplicate nobody names.
    await putVersion(doc, t, { asset: 'gcu/a', version: '1.1.0', status: 'deleted', files: [{ sha256: sha(21), key: duplicate }] });
    await putVersion(doc, t, { asset: 'gcu/a', version: '1.2.0', status: 'pending', pendingExpiresAt: 1, files: [{ sha256: sha(21), key: pending }] });
    listing([verified, duplicate, pending, abandoned].map((key) => ({ key, at: hoursAgo(100) })));

    expect(await collect({ graceHours: 48, now: NOW, settleMs: 10 })).toEqual({ scanned: 4, candidates: 2, deleted: 2, reclaimed: 0, rejected: 0, failed: 0 });
    expect(deletedKeys().sort()).toEqual([duplicate, abandoned].sort());
    expect(await blobRecord(sha(21))).toMatchObject({ key: verified });
  });

  it('forgets the digest\'s record with the object it names, and restores it when a version claims the object meanwhile', async () => {
    const t = dynamo.tables;
    await putAsset(doc, t, 'gcu/b', 0);
    const gone = upload(sha(22));
    const claimed = upload(sha(23));
    await putVerified(sha(22), gone);
    await putVerified(sha(23), claimed);
    listing([gone, claimed].map((key) => ({ key, at: hoursAgo(100) })));

    const running = collect({ graceHours: 48, now: NOW, settleMs: 1500 });
    for (let i = 0; i < 100 && (await blobRecord(sha(23))); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await blobRecord(sha(23))).toBeUndefined();
    await putVersion(doc, t, { asset: 'gcu/b', version: '1.0.0', status: 'ready', files: [{ sha256: sha(23), key: claimed }] });

    expect(await running).toEqual({ scanned: 2, candidates: 2, deleted: 1, reclaimed: 1, rejected: 0, failed: 0 });
    expect(deletedKeys()).toEqual([gone]);
    expect(await blobRecord(sha(22))).toBeUndefined();
    expect(await blobRecord(sha(23))).toMatchObject({ key: claimed });
  });

  it('deletes a rejected upload object an hour after the rejection, leaving the honest object and record of the same digest', async () => {
    const t = dynamo.tables;
    await putAsset(doc, t, 'gcu/c', 2);
    const poisoned = upload(sha(24));
    const honest = upload(sha(24));
    await doc.send(new PutCommand({ TableName: t.blobs, Item: { sha256: idOf(poisoned), rejectedAt: hoursAgo(2).toISOString(), rejectedReason: 'stored bytes hash to …' } }));
    await putVerified(sha(24), honest);
    await putVersion(doc, t, { asset: 'gcu/c', version: '1.0.0', status: 'pending', pendingExpiresAt: 1, files: [{ sha256: sha(24), key: poisoned }] });
    await putVersion(doc, t, { asset: 'gcu/c', version: '2.0.0', status: 'ready', files: [{ sha256: sha(24), key: honest }] });
    listing([poisoned, honest].map((key) => ({ key, at: hoursAgo(2) })));

    expect(await collect({ graceHours: 48, now: NOW, settleMs: 10 })).toEqual({ scanned: 2, candidates: 0, deleted: 0, reclaimed: 0, rejected: 1, failed: 0 });
    expect(deletedKeys()).toEqual([poisoned]);
    expect(await blobRecord(idOf(poisoned))).toBeUndefined();
    expect(await blobRecord(sha(24))).toMatchObject({ key: honest, verifiedAt: expect.any(String) });
  });
});
