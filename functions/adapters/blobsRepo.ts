/**
 * The Blobs table holds two kinds of item, both under the partition key `sha256`:
 * - a digest's record (`<hex>`): once one upload of that digest verified, `verifiedAt` and `key`, the object
 *   holding the verified bytes (R-STORE dedup: `present`, and the key new versions' entries point at);
 * - an object's record (`<hex>/<nonce>`, the key below `blobs/sha256/`, contract/keys.ts `parseBlobKey`):
 *   why that one upload was rejected, and which published versions hold it under legal hold.
 * A legacy object (`blobs/sha256/<hex>`) has the digest's record as its object's record, as before.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { legacyBlobKey } from '../../contract/keys.ts';
import { batchGet, batchPut, call, ddb, tables, translateDynamoError, type Item } from './dynamo.ts';

const BATCH = 100;

/** Digest → the object holding its verified bytes, from digests' records (a record without `key` is legacy). */
export function verifiedIn(items: readonly Item[]): Map<string, string> {
  const verified = new Map<string, string>();
  for (const i of items) {
    if (typeof i.sha256 !== 'string' || i.verifiedAt === undefined) continue;
    verified.set(i.sha256, typeof i.key === 'string' ? i.key : legacyBlobKey(i.sha256));
  }
  return verified;
}

/** The digests among `sha256s` whose blobs are verified, each with the object holding the verified bytes. */
export async function verifiedBlobs(sha256s: readonly string[], consistent = false): Promise<Map<string, string>> {
  const distinct = [...new Set(sha256s)];
  const verified = new Map<string, string>();
  for (let i = 0; i < distinct.length; i += BATCH) {
    const found = await batchGet({
      [tables.blobs]: { Keys: distinct.slice(i, i + BATCH).map((sha256) => ({ sha256 })), ConsistentRead: consistent },
    });
    for (const [sha, key] of verifiedIn(found[tables.blobs] ?? [])) verified.set(sha, key);
  }
  return verified;
}

/**
 * Records each digest's verified object. A later verified upload of the same digest replaces the record:
 * either object holds the right bytes, and versions keep pointing at the one they verified.
 */
export async function markVerified(blobs: readonly { sha256: string; size: number; key: string }[], at: string): Promise<void> {
  const distinct = [...new Map(blobs.map((b) => [b.sha256, b])).values()];
  await batchPut(tables.blobs, distinct.map((b) => ({ sha256: b.sha256, size: b.size, key: b.key, verifiedAt: at })));
}

/**
 * Records that one upload's object (`id`, its key below the prefix) holds other bytes than its digest. The
 * service never deletes (only the garbage collector does); the record tells the collector and operators why
 * the object stays unverified. It blocks nobody else: every upload writes to a key of its own. A verified
 * legacy object is never marked.
 */
export async function markRejected(id: string, reason: string, at: string): Promise<void> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tables.blobs,
        Key: { sha256: id },
        UpdateExpression: 'SET rejectedAt = :at, rejectedReason = :why',
        ConditionExpression: 'attribute_not_exists(verifiedAt)',
        ExpressionAttributeValues: { ':at': at, ':why': reason },
      }),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) translateDynamoError(err);
  }
}

/** Why an upload's object (`id`) was rejected, or `undefined` when it was not (or has been verified). */
export async function rejection(id: string): Promise<string | undefined> {
  const out = await call(() => ddb.send(new GetCommand({ TableName: tables.blobs, Key: { sha256: id }, ConsistentRead: true })));
  const item = out.Item;
  return item?.rejectedAt !== undefined && item.verifiedAt === undefined ? String(item.rejectedReason ?? 'rejected') : undefined;
}

/** Adds or removes a published version (`asset@version`) among an object's (`id`) legal-hold holders; returns how many remain. */
export async function updateHolders(id: string, holder: string, add: boolean): Promise<number> {
  const out = await call(() =>
    ddb.send(
      new UpdateCommand({
        TableName: tables.blobs,
        Key: { sha256: id },
        UpdateExpression: add ? 'ADD heldBy :h' : 'DELETE heldBy :h',
        ExpressionAttributeValues: { ':h': new Set([holder]) },
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  const held = out.Attributes?.heldBy;
  return held instanceof Set ? held.size : 0;
}
