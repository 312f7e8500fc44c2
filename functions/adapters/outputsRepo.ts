/** Run-output items (R-OUT): one per (flow, run, name), expired by DynamoDB TTL on `expiresAt`. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { OutputItem, type StoredFile } from '../domain/model.ts';
import { call, ddb, queryPage, tables, translateDynamoError } from './dynamo.ts';

export const runKeyOf = (flow: string, run: string): string => `${flow}/${run}`;

/**
 * Stores a new output unless one with that name is there and unexpired (an expired one awaiting TTL is
 * replaced). Answers the existing item when refused, read from the failed condition (no second request).
 */
export async function putOutput(item: OutputItem, now: number): Promise<{ created: true } | { created: false; existing: OutputItem }> {
  try {
    await ddb.send(
      new PutCommand({
        TableName: tables.outputs,
        Item: item,
        ConditionExpression: 'attribute_not_exists(runKey) OR expiresAt <= :now',
        ExpressionAttributeValues: { ':now': now },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { created: true };
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException && err.Item) {
      return { created: false, existing: OutputItem.parse(unmarshall(err.Item)) };
    }
    translateDynamoError(err);
  }
}

export async function getOutput(flow: string, run: string, name: string, consistent = false): Promise<OutputItem | undefined> {
  const out = await call(() =>
    ddb.send(new GetCommand({ TableName: tables.outputs, Key: { runKey: runKeyOf(flow, run), name }, ConsistentRead: consistent })),
  );
  return out.Item ? OutputItem.parse(out.Item) : undefined;
}

/** Marks a pending output ready with its verified file entries; `undefined` when it changed meanwhile. */
export async function markOutputReady(item: OutputItem, files: StoredFile[]): Promise<OutputItem | undefined> {
  try {
    const out = await ddb.send(
      new UpdateCommand({
        TableName: tables.outputs,
        Key: { runKey: item.runKey, name: item.name },
        UpdateExpression: 'SET #status = :ready, #files = :files',
        ConditionExpression: '#status = :pending AND createdKey = :key',
        ExpressionAttributeNames: { '#status': 'status', '#files': 'files' },
        ExpressionAttributeValues: { ':ready': 'ready', ':pending': 'pending', ':files': files, ':key': item.createdKey },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return OutputItem.parse(out.Attributes);
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return undefined;
    translateDynamoError(err);
  }
}

/** A page of a run's unexpired outputs, in name order. */
export async function listOutputs(
  flow: string,
  run: string,
  page: { limit: number; cursor?: string },
  now: number,
): Promise<{ items: OutputItem[]; nextCursor?: string }> {
  const runKey = runKeyOf(flow, run);
  return queryPage(
    { table: 'outputs', partition: { name: 'runKey', value: runKey }, cursor: page.cursor },
    (start) =>
      ddb.send(
        new QueryCommand({
          TableName: tables.outputs,
          KeyConditionExpression: 'runKey = :r',
          FilterExpression: 'expiresAt > :now',
          ExpressionAttributeValues: { ':r': runKey, ':now': now },
          Limit: page.limit,
          ExclusiveStartKey: start,
        }),
      ),
    (i) => OutputItem.parse(i),
  );
}

/** The run of the flow's most recently declared output: one Query on the `byFlow` index, newest first. */
export async function latestRun(flow: string): Promise<string | undefined> {
  const out = await call(() =>
    ddb.send(
      new QueryCommand({
        TableName: tables.outputs,
        IndexName: 'byFlow',
        KeyConditionExpression: 'flow = :f',
        ExpressionAttributeValues: { ':f': flow },
        ScanIndexForward: false,
        Limit: 1,
      }),
    ),
  );
  const run = out.Items?.[0]?.runKey;
  return typeof run === 'string' ? run.slice(flow.length + 1) : undefined;
}
