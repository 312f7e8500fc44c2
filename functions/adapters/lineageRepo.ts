/** Lineage edges: one item per (recorded version, version recording it), keyed for "who records X" in one Query. */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, queryPage, tables } from './dynamo.ts';
import { writeEdges } from './lineageEdges.ts';

/** Writes a version's edges (idempotent; the versions stream writes them too). */
export const putEdges = (downstream: string, upstreams: readonly string[]): Promise<void> => writeEdges(ddb, tables.lineage, downstream, upstreams);

/** A page of the versions (`asset:version`) whose records name `upstream`, in name order. */
export const downstreamOf = (upstream: string, page: { limit: number; cursor?: string }): Promise<{ items: string[]; nextCursor?: string }> =>
  queryPage(
    { table: 'lineage', partition: { name: 'upstream', value: upstream }, cursor: page.cursor },
    (start) =>
      ddb.send(
        new QueryCommand({
          TableName: tables.lineage,
          KeyConditionExpression: 'upstream = :u',
          ExpressionAttributeValues: { ':u': upstream },
          Limit: page.limit,
          ExclusiveStartKey: start,
        }),
      ),
    (i) => String(i.downstream),
  );
