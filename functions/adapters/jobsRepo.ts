/**
 * Table scans and bulk blob operations of the background jobs (functions/jobs/sweeper.ts and gc.ts).
 * The jobs run on a schedule, so a Scan of the versions table is the right tool: no request path waits on it.
 */
import { DeleteCommand, PutCommand, ScanCommand, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { BLOB_PREFIX, legacyBlobKey, parseBlobKey } from '../../contract/keys.ts';
import { OutputItem, VersionItem, nowEpoch, objectKeyOf } from '../domain/model.ts';
import { env } from '../shared/env.ts';
import { allItems, ddb, tables, type Item } from './dynamo.ts';
import { s3 } from './s3.ts';

const scan = (input: ScanCommandInput): AsyncGenerator<Item> => allItems((start) => ddb.send(new ScanCommand({ ...input, ExclusiveStartKey: start })));

/** Pending versions whose expiry (`pendingExpiresAt`, epoch seconds) is at or before `nowEpoch`. */
export async function* expiredPendingVersions(nowEpoch: number): AsyncGenerator<VersionItem> {
  const items = scan({
    TableName: tables.versions,
    FilterExpression: '#status = :pending AND pendingExpiresAt <= :now',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':pending': 'pending', ':now': nowEpoch },
    ConsistentRead: true,
  });
  for await (const item of items) yield VersionItem.parse(item);
}

/**
 * Every object a live or pending version's file entries, or an unexpired run output's, name: the objects the
 * collector must keep (an unverified entry names its upload's own object, a verified one the verified object).
 */
export async function referencedKeys(): Promise<Set<string>> {
  const referenced = new Set<string>();
  const items = scan({
    TableName: tables.versions,
    FilterExpression: '#status <> :deleted',
    ProjectionExpression: '#status, #files',
    ExpressionAttributeNames: { '#status': 'status', '#files': 'files' },
    ExpressionAttributeValues: { ':deleted': 'deleted' },
    ConsistentRead: true,
  });
  for await (const item of items) {
    for (const file of VersionItem.shape.files.parse(item.files)) referenced.add(objectKeyOf(file));
  }
  // DynamoDB's TTL deletes lazily: an output past `expiresAt` keeps nothing even while its item remains.
  const outputs = scan({
    TableName: tables.outputs,
    FilterExpression: 'expiresAt > :now',
    ProjectionExpression: '#files',
    ExpressionAttributeNames: { '#files': 'files' },
    ExpressionAttributeValues: { ':now': nowEpoch() },
    ConsistentRead: true,
  });
  for await (const item of outputs) {
    for (const file of OutputItem.shape.files.parse(item.files)) referenced.add(objectKeyOf(file));
  }
  return referenced;
}

export interface StoredBlob {
  key: string;
  sha256: string;
  lastModified: Date;
}

/** The blob objects under `blobs/sha256/` (per-upload and legacy keys), a page (up to 1,000) at a time. */
export async function* blobPages(): AsyncGenerator<StoredBlob[]> {
  let token: string | undefined;
  do {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: env.bucket, Prefix: BLOB_PREFIX, ContinuationToken: token }));
    yield (out.Contents ?? []).flatMap((o) => {
      const blob = o.Key ? parseBlobKey(o.Key) : undefined;
      return blob && o.Key && o.LastModified ? [{ key: o.Key, sha256: blob.sha256, lastModified: o.LastModified }] : [];
    });
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
}

/**
 * Removes a digest's verified record if it names the object `key`, so no new version counts that object
 * `present`; returns the old record (`undefined`: the record names another object, or there is none).
 */
export async function forgetBlob(sha256: string, key: string): Promise<Item | undefined> {
  const legacy = key === legacyBlobKey(sha256);
  try {
    const out = await ddb.send(
      new DeleteCommand({
        TableName: tables.blobs,
        Key: { sha256 },
        ConditionExpression: legacy ? 'attribute_exists(verifiedAt) AND attribute_not_exists(#key)' : '#key = :key',
        ExpressionAttributeNames: { '#key': 'key' },
        ...(legacy ? {} : { ExpressionAttributeValues: { ':key': key } }),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return out.Attributes;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return undefined;
    throw err;
  }
}

/**
 * The record ids (`<hex>/<nonce>`, or `<hex>` for a legacy object) of objects the service rejected (other
 * bytes than their digest, `markRejected`) before `beforeIso` and that no commit has verified since.
 */
export async function rejectedObjects(beforeIso: string): Promise<string[]> {
  const found: string[] = [];
  const items = scan({
    TableName: tables.blobs,
    FilterExpression: 'attribute_exists(rejectedAt) AND attribute_not_exists(verifiedAt) AND rejectedAt < :before',
    ExpressionAttributeValues: { ':before': beforeIso },
    ProjectionExpression: 'sha256',
    ConsistentRead: true,
  });
  for await (const item of items) found.push(String(item.sha256));
  return found;
}

/** Removes a rejected object's record unless a commit verified the (legacy) object meanwhile; true when removed. */
export async function forgetRejected(id: string): Promise<boolean> {
  try {
    await ddb.send(
      new DeleteCommand({
        TableName: tables.blobs,
        Key: { sha256: id },
        ConditionExpression: 'attribute_exists(rejectedAt) AND attribute_not_exists(verifiedAt)',
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

/** Puts a forgotten record back, unless the blob was verified again meanwhile (then that record stands). */
export async function restoreBlob(record: Item): Promise<void> {
  try {
    await ddb.send(new PutCommand({ TableName: tables.blobs, Item: record, ConditionExpression: 'attribute_not_exists(sha256)' }));
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
}

/** Deletes blob objects (at most 1,000 keys per call); returns the keys S3 refused to delete. */
export async function deleteBlobObjects(keys: readonly string[]): Promise<string[]> {
  if (keys.length === 0) return [];
  const out = await s3.send(
    new DeleteObjectsCommand({
      Bucket: env.bucket,
      Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
    }),
  );
  return (out.Errors ?? []).map((e) => e.Key ?? '');
}
