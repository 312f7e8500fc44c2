/**
 * DynamoDB plumbing free of environment side effects: the client factory, the translation of throttling,
 * and pagination. The API's adapters (./dynamo.ts, configured from the API's variables) and the hook
 * functions (functions/hooks/runtime.ts, which get only theirs) share it.
 */
import { DynamoDBClient, TransactionCanceledException, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall, type unmarshallOptions } from '@aws-sdk/util-dynamodb';
import { ArcaError } from '../shared/errors.ts';
import { tracer } from '../shared/observability.ts';

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
  const client = tracer.captureAWSv3Client(new DynamoDBClient(endpoint ? { endpoint } : {}));
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
