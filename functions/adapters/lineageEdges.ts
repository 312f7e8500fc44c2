/**
 * Writing lineage edges, free of environment side effects: the API writes a new version's edges after its
 * create, and the stream consumers (functions/events/stream.ts, local/events.ts) write them again from the
 * version's INSERT record, so a create that stops between its transaction and its edges loses none (R-META).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteItems } from './dynamoBase.ts';

/** Idempotent puts, one per distinct record: writing a version's edges again changes nothing. */
export const writeEdges = (doc: DynamoDBDocumentClient, table: string, downstream: string, upstreams: readonly string[]): Promise<void> =>
  batchWriteItems(doc, table, [...new Set(upstreams)].map((upstream) => ({ PutRequest: { Item: { upstream, downstream } } })));
