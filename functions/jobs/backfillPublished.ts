/**
 * Backfill of the `published` index (contract/tables.ts): versions published before the index existed lack
 * `publishedAsset`, so `stage=published` does not see them until this has run once. Idempotent and safe beside
 * live traffic: each write is conditional on the version still being published and still lacking the
 * attribute, so a second run, a concurrent run, a publish (which sets it) or a delete (which tombstones it)
 * meanwhile makes the write a no-op. It touches neither `rev` nor `updatedAt`: nothing a client sees changes.
 * Run by bin/backfill-published.ts against a deployed stage, and by local mode at every start.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { indexAttributes } from '../adapters/versionIndexes.ts';
import { allItems } from '../adapters/dynamoBase.ts';

export interface BackfillResult {
  /** Published versions found without the attribute. */
  found: number;
  /** Of those, the ones this run wrote. */
  updated: number;
  /** Changed meanwhile (written by another run or a publish, or deleted): left as they are. */
  skipped: number;
}

export async function backfillPublished(doc: DynamoDBDocumentClient, table: string): Promise<BackfillResult> {
  const result: BackfillResult = { found: 0, updated: 0, skipped: 0 };
  const missing = allItems((start) =>
    doc.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: '#status = :published AND attribute_not_exists(publishedAsset)',
        ProjectionExpression: 'asset, vkey, version',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':published': 'published' },
        ExclusiveStartKey: start,
      }),
    ),
  );
  for await (const item of missing) {
    result.found++;
    const { publishedAsset } = indexAttributes(String(item.asset), String(item.version), 'published');
    try {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { asset: item.asset, vkey: item.vkey },
          UpdateExpression: 'SET publishedAsset = :p',
          ConditionExpression: '#status = :published AND attribute_not_exists(publishedAsset)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':p': publishedAsset, ':published': 'published' },
        }),
      );
      result.updated++;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      result.skipped++;
    }
  }
  return result;
}
