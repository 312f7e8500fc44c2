/** Blob items: one per SHA-256 whose bytes the service verified (R-STORE dedup: `present`). */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { batchGet, batchPut, call, ddb, tables, translateDynamoError, type Item } from './dynamo.ts';

const BATCH = 100;

export const verifiedIn = (items: readonly Item[]): string[] =>
  items.filter((i) => typeof i.sha256 === 'string' && i.verifiedAt !== undefined).map((i) => String(i.sha256));

/** The digests among `sha256s` whose blobs are verified. */
export async function verifiedBlobs(sha256s: readonly string[], consistent = false): Promise<Set<string>> {
  const distinct = [...new Set(sha256s)];
  const verified = new Set<string>();
  for (let i = 0; i < distinct.length; i += BATCH) {
    const found = await batchGet({
      [tables.blobs]: { Keys: distinct.slice(i, i + BATCH).map((sha256) => ({ sha256 })), ConsistentRead: consistent },
    });
    for (const sha of verifiedIn(found[tables.blobs] ?? [])) verified.add(sha);
  }
  return verified;
}

export async function markVerified(blobs: readonly { sha256: string; size: number }[], at: string): Promise<void> {
  const distinct = [...new Map(blobs.map((b) => [b.sha256, b])).values()];
  await batchPut(tables.blobs, distinct.map((b) => ({ sha256: b.sha256, size: b.size, verifiedAt: at })));
}

/**
 * Records that the object under a digest holds other bytes. The service never deletes (only the garbage
 * collector does); the record tells the collector and operators why the blob stays unverified. A verified
 * blob is never marked.
 */
export async function markRejected(sha256: string, reason: string, at: string): Promise<void> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tables.blobs,
        Key: { sha256 },
        UpdateExpression: 'SET rejectedAt = :at, rejectedReason = :why',
        ConditionExpression: 'attribute_not_exists(verifiedAt)',
        ExpressionAttributeValues: { ':at': at, ':why': reason },
      }),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) translateDynamoError(err);
  }
}

/** Why the object under a digest was rejected, or `undefined` when it was not (or has been verified). */
export async function rejection(sha256: string): Promise<string | undefined> {
  const out = await call(() => ddb.send(new GetCommand({ TableName: tables.blobs, Key: { sha256 }, ConsistentRead: true })));
  const item = out.Item;
  return item?.rejectedAt !== undefined && item.verifiedAt === undefined ? String(item.rejectedReason ?? 'rejected') : undefined;
}

/** Adds or removes a published version (`asset@version`) among a blob's legal-hold holders; returns how many remain. */
export async function updateHolders(sha256: string, holder: string, add: boolean): Promise<number> {
  const out = await call(() =>
    ddb.send(
      new UpdateCommand({
        TableName: tables.blobs,
        Key: { sha256 },
        UpdateExpression: add ? 'ADD heldBy :h' : 'DELETE heldBy :h',
        ExpressionAttributeValues: { ':h': new Set([holder]) },
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  const held = out.Attributes?.heldBy;
  return held instanceof Set ? held.size : 0;
}
