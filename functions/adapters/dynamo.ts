/**
 * The API's DynamoDB client and table names (from its environment), transactions, and batch operations;
 * the side-effect-free plumbing they use is ./dynamoBase.ts.
 */
import { BatchGetCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { env } from '../shared/env.ts';
import { backoff, batchWriteItems, call, dynamoClients, transact, type CancelReason, type Item, type WriteRequest } from './dynamoBase.ts';

export { allItems, call, queryPage, transact, translateDynamoError, type CancelReason, type Item } from './dynamoBase.ts';

export const { client: dynamoClient, doc: ddb } = dynamoClients(env.dynamoEndpoint);

export const tables = env.tables;

/** One TransactWriteItems of `items` through `transact` (an audited change is its write plus `auditPut`). */
export const transactWrite = (items: NonNullable<TransactWriteCommandInput['TransactItems']>): Promise<CancelReason[] | undefined> =>
  transact(() => ddb.send(new TransactWriteCommand({ TransactItems: items })));

export const conditionFailed = (r: CancelReason | undefined): boolean => r?.Code === 'ConditionalCheckFailed';

/** `SET #k = :k, …` for the given fields, with their names and values; `undefined` fields are REMOVEd. */
export function setClause(fields: Item, prefix = 's'): { set: string[]; remove: string[]; names: Record<string, string>; values: Item } {
  const set: string[] = [];
  const remove: string[] = [];
  const names: Record<string, string> = {};
  const values: Item = {};
  Object.entries(fields).forEach(([k, v], i) => {
    names[`#${prefix}${i}`] = k;
    if (v === undefined) remove.push(`#${prefix}${i}`);
    else {
      set.push(`#${prefix}${i} = :${prefix}${i}`);
      values[`:${prefix}${i}`] = v;
    }
  });
  return { set, remove, names, values };
}

/**
 * The UpdateExpression of a `setClause` (plus any extra SET actions). Every name it declares must appear in
 * the expression (DynamoDB refuses an unused ExpressionAttributeNames entry), so the REMOVE part is never dropped.
 */
export const updateExpression = (set: string[], remove: string[]): string =>
  `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`;


type BatchRequest = Record<string, { Keys: Item[]; ConsistentRead?: boolean }>;

/** One BatchGetItem (plus retries of unprocessed keys); returns the items per table. */
export async function batchGet(request: BatchRequest): Promise<Record<string, Item[]>> {
  const found: Record<string, Item[]> = {};
  let pending = request;
  for (let attempt = 0; Object.keys(pending).length > 0; attempt++) {
    if (attempt > 0) await backoff(attempt);
    const out = await call(() => ddb.send(new BatchGetCommand({ RequestItems: pending })));
    for (const [table, items] of Object.entries(out.Responses ?? {})) (found[table] ??= []).push(...items);
    pending = (out.UnprocessedKeys ?? {}) as BatchRequest;
  }
  return found;
}

/** BatchWriteItem puts in chunks of 25, retrying unprocessed items. */
export async function batchPut(table: string, items: Item[]): Promise<void> {
  await batchWrite(table, items.map((Item) => ({ PutRequest: { Item } })));
}

export async function batchDelete(table: string, keys: Item[]): Promise<void> {
  await batchWrite(table, keys.map((Key) => ({ DeleteRequest: { Key } })));
}

const batchWrite = (table: string, requests: WriteRequest[]): Promise<void> => batchWriteItems(ddb, table, requests);
