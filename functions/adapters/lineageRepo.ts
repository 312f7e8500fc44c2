/** Lineage edges: one item per (recorded version, version recording it), keyed for "who records X" in one Query. */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { cursorKeyNames, decodeCursor, encodeCursor } from './cursor.ts';
import { batchPut, call, ddb, tables } from './dynamo.ts';

/** Idempotent puts: writing a version's edges again (a retried create) changes nothing. */
export async function putEdges(downstream: string, upstreams: readonly string[]): Promise<void> {
  await batchPut(tables.lineage, [...new Set(upstreams)].map((upstream) => ({ upstream, downstream })));
}

/** A page of the versions (`asset:version`) whose records name `upstream`, in name order. */
export async function downstreamOf(upstream: string, page: { limit: number; cursor?: string }): Promise<{ items: string[]; nextCursor?: string }> {
  const out = await call(() =>
    ddb.send(
      new QueryCommand({
        TableName: tables.lineage,
        KeyConditionExpression: 'upstream = :u',
        ExpressionAttributeValues: { ':u': upstream },
        Limit: page.limit,
        ExclusiveStartKey: decodeCursor(page.cursor, cursorKeyNames('lineage'), { name: 'upstream', value: upstream }),
      }),
    ),
  );
  return { items: (out.Items ?? []).map((i) => String(i.downstream)), nextCursor: encodeCursor(out.LastEvaluatedKey) };
}
