/**
 * DynamoDB plumbing free of environment side effects: the client factory, the translation of throttling,
 * transactions, and pagination. The API's adapters (./dynamo.ts, configured from the API's variables) and the hook
 * functions (functions/hooks/runtime.ts, which get only theirs) share it.
 */
import { DynamoDBClient, TransactionCanceledException, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall, type unmarshallOptions } from '@aws-sdk/util-dynamodb';
import type { TableName } from '../../contract/tables.ts';
import { ArcaError } from '../shared/errors.ts';
import { traceClient } from '../shared/observability.ts';
import { cursorKeyNames, decodeCursor, encodeCursor } from './cursor.ts';

export type Item = Record<string, unknown>;

/**
 * Every number Arca stores is a JSON number, a double, and free-form metadata may hold integers above 2^53
 * (1e20, 9.99e125): such a number is written as the double it is (`allowImpreciseNumbers`, instead of the
 * SDK's refusal, a 500) and read back as a double (instead of a BigInt JSON cannot serialize, or an error
 * for "9.99E+125"). The schemas keep every number within what DynamoDB stores.
 */
const wrapNumbers = Number;

/** A raw DynamoDB item (stream record, cancellation reason, condition failure) as the document client reads it. */
export const fromItem = (raw: Record<string, AttributeValue>): Item => unmarshall(raw, { wrapNumbers } satisfies unmarshallOptions);

/** A traced DynamoDB client and its document client (undefined attributes dropped, as items are built with optional fields). */
export function dynamoClients(endpoint: string | undefined): { client: DynamoDBClient; doc: DynamoDBDocumentClient } {
  const client = traceClient(new DynamoDBClient(endpoint ? { endpoint } : {}));
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false, allowImpreciseNumbers: true },
    // A fresh object: the document client completes the options it is given in place.
    unmarshallOptions: { wrapNumbers },
  });
  return { client, doc };
}

/** Throttling, as exception names and as transaction cancellation reason codes. */
export const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceeded',
  'ThrottlingError',
]);

/** Throttling becomes 429 Throttled; anything else is left for the caller (or becomes a 500). */
export function translateDynamoError(err: unknown): never {
  if (err instanceof Error && THROTTLING.has(err.name)) {
    throw new ArcaError('Throttled', 'the registry is busy; retry with backoff');
  }
  if (err instanceof TransactionCanceledException && err.CancellationReasons?.some((r) => r.Code && THROTTLING.has(r.Code))) {
    throw new ArcaError('Throttled', 'the registry is busy; retry with backoff');
  }
  throw err;
}

/** Runs one DynamoDB call with throttling translated. */
export async function call<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    return translateDynamoError(err);
  }
}

/** Every item of a paginated read: `page` reads the page at `start` and names where the next one starts (none: done). */
export async function* paginate<T, K>(page: (start: K | undefined) => Promise<{ items?: readonly T[]; next?: K }>): AsyncGenerator<T> {
  let start: K | undefined;
  do {
    const out = await page(start);
    yield* out.items ?? [];
    start = out.next;
  } while (start !== undefined);
}

/** Every item of a Query or Scan: `send` runs it from `ExclusiveStartKey` `start`. */
export const allItems = (send: (start: Item | undefined) => Promise<{ Items?: Item[]; LastEvaluatedKey?: Item }>): AsyncGenerator<Item> =>
  paginate(async (start: Item | undefined) => {
    const out = await call(() => send(start));
    return { items: out.Items, next: out.LastEvaluatedKey };
  });

/** Waits before retrying what DynamoDB left unprocessed: 40 ms doubling to 1.3 s. */
export const backoff = (attempt: number): Promise<void> => new Promise((r) => setTimeout(r, 20 * 2 ** Math.min(attempt, 6)));

export type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Item } };

/** BatchWriteItem in chunks of 25, retrying unprocessed items. */
export async function batchWriteItems(doc: DynamoDBDocumentClient, table: string, requests: WriteRequest[]): Promise<void> {
  for (let i = 0; i < requests.length; i += 25) {
    let chunk = requests.slice(i, i + 25);
    for (let attempt = 0; chunk.length > 0; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const out = await call(() => doc.send(new BatchWriteCommand({ RequestItems: { [table]: chunk } })));
      chunk = (out.UnprocessedItems?.[table] ?? []) as WriteRequest[];
    }
  }
}

/** Where a page of a listing starts: the caller's cursor, checked against the key of the table (and index) read. */
export interface PageStart {
  table: TableName;
  index?: string;
  /** The partition the listing reads: a cursor from another listing is a 400, not another partition's items. */
  partition?: { name: string; value: string };
  cursor?: string;
}

/**
 * One page of a list route's Query or Scan: `send` runs it from the decoded cursor, each item is `parse`d,
 * and the next cursor stands for its LastEvaluatedKey.
 */
export async function queryPage<T>(
  start: PageStart,
  send: (start: Item | undefined) => Promise<{ Items?: Item[]; LastEvaluatedKey?: Item }>,
  parse: (item: Item) => T,
): Promise<{ items: T[]; nextCursor?: string }> {
  const key = decodeCursor(start.cursor, cursorKeyNames(start.table, start.index), start.partition);
  const out = await call(() => send(key));
  return { items: (out.Items ?? []).map(parse), nextCursor: encodeCursor(out.LastEvaluatedKey) };
}

/** A transaction cancellation reason, with the old item (ALL_OLD) unmarshalled. */
export interface CancelReason {
  Code?: string;
  Item?: Item;
}

/** The cancellation reasons a caller can act on (retry, or read the old item); any other is a fault. */
const EXPECTED_REASONS = new Set(['None', 'ConditionalCheckFailed', 'TransactionConflict']);

/**
 * Runs a transaction; a cancellation comes back as the reasons (one per action, in order) instead of an
 * exception, so callers decide per action without extra reads (ReturnValuesOnConditionCheckFailure: ALL_OLD).
 * Throttling is a 429; a reason no retry can cure (an item DynamoDB refuses, a full item collection) is
 * thrown, a 400 when DynamoDB calls the request invalid, else a 500, never retried into a misleading 429.
 */
export async function transact(op: () => Promise<unknown>): Promise<CancelReason[] | undefined> {
  try {
    await op();
    return undefined;
  } catch (err) {
    if (err instanceof TransactionCanceledException && err.CancellationReasons) {
      if (err.CancellationReasons.some((r) => r.Code && THROTTLING.has(r.Code))) translateDynamoError(err);
      const fault = err.CancellationReasons.find((r) => r.Code !== undefined && !EXPECTED_REASONS.has(r.Code));
      if (fault?.Code === 'ValidationError') throw new ArcaError('ValidationError', `DynamoDB refused the change: ${fault.Message ?? 'invalid'}`);
      if (fault) throw err;
      return err.CancellationReasons.map((r) => ({ Code: r.Code, Item: r.Item ? fromItem(r.Item) : undefined }));
    }
    if (err instanceof Error && err.name === 'TransactionConflictException') return [{ Code: 'TransactionConflict' }];
    if (err instanceof Error && err.name === 'ValidationException') throw new ArcaError('ValidationError', `DynamoDB refused the change: ${err.message}`);
    return translateDynamoError(err);
  }
}
