/**
 * The audit log: append-only entries written inside the transaction of the change they record
 * (`auditPut`), and the paged reads of `GET /v1/audit` and alias history. The service never updates or
 * deletes an entry: the only write is a Put conditional on the id being new, and IAM grants no more.
 */
import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_LIST_PK } from '../../contract/tables.ts';
import { AuditEntry, type AuditAction } from '../../contract/readSchemas.ts';
import { ddb, queryPage, tables } from './dynamo.ts';

export interface AuditInput {
  action: AuditAction;
  actor: string;
  asset?: string;
  hook?: string;
  version?: string;
  alias?: string;
  from?: string;
  to?: string;
  reason?: string;
  /** Grant changes: whose grant, on which prefix, with which role (absent on a revoke). */
  grantee?: string;
  prefix?: string;
  role?: string;
  requestId?: string;
  /** Defaults to now; a transaction that stamps its change passes the same time. */
  at?: string;
}

const aliasKey = (asset: string, alias: string) => `${asset}#${alias}`;

/**
 * The Put of one audit entry, to add to the TransactItems of the change it records. The lead's grant and
 * output-promote routes call this too.
 */
export type AuditPut = { Put: { TableName: string; Item: Record<string, unknown>; ConditionExpression: string } };

export function auditPut(input: AuditInput): AuditPut {
  const id = randomUUID();
  const at = input.at ?? new Date().toISOString();
  const entry = AuditEntry.parse({ ...input, id, at });
  return {
    Put: {
      TableName: tables.audit,
      Item: {
        ...entry,
        atKey: `${at}#${id}`,
        listPk: AUDIT_LIST_PK,
        ...(entry.alias !== undefined && entry.asset !== undefined ? { aliasKey: aliasKey(entry.asset, entry.alias) } : {}),
      },
      ConditionExpression: 'attribute_not_exists(id)',
    },
  };
}

export interface AuditQuery {
  asset?: string;
  actor?: string;
  since?: string;
  until?: string;
  limit: number;
  cursor?: string;
}

/** One Query newest first on the index the filters pick; with both asset and actor, actor is a filter. */
export async function queryAudit(q: AuditQuery): Promise<{ items: AuditEntry[]; nextCursor?: string }> {
  const [index, pkName, pkValue] =
    q.asset !== undefined ? ['byAsset', 'asset', q.asset] : q.actor !== undefined ? ['byActor', 'actor', q.actor] : ['byTime', 'listPk', AUDIT_LIST_PK];
  return queryIndex(index, pkName, pkValue, q, q.asset !== undefined ? q.actor : undefined);
}

/** Every move of one alias newest first; with `at`, only the entry in force then (Limit 1). */
export async function aliasHistory(asset: string, alias: string, opts: { at?: string; limit: number; cursor?: string }) {
  if (opts.at !== undefined) return queryIndex('byAlias', 'aliasKey', aliasKey(asset, alias), { until: opts.at, limit: 1 });
  return queryIndex('byAlias', 'aliasKey', aliasKey(asset, alias), opts);
}

async function queryIndex(
  index: string,
  pkName: string,
  pkValue: string,
  range: { since?: string; until?: string; limit: number; cursor?: string },
  actorFilter?: string,
): Promise<{ items: AuditEntry[]; nextCursor?: string }> {
  const values: Record<string, string> = { ':pk': pkValue };
  let condition = '#pk = :pk';
  // `~` sorts after every `#<id>` suffix, so `until` includes entries at exactly that time.
  if (range.since !== undefined && range.until !== undefined) {
    condition += ' AND atKey BETWEEN :since AND :until';
    Object.assign(values, { ':since': range.since, ':until': `${range.until}~` });
  } else if (range.since !== undefined) {
    condition += ' AND atKey >= :since';
    values[':since'] = range.since;
  } else if (range.until !== undefined) {
    condition += ' AND atKey <= :until';
    values[':until'] = `${range.until}~`;
  }
  if (actorFilter !== undefined) values[':actor'] = actorFilter;
  return queryPage(
    { table: 'audit', index, partition: { name: pkName, value: pkValue }, cursor: range.cursor },
    (start) =>
      ddb.send(
        new QueryCommand({
          TableName: tables.audit,
          IndexName: index,
          KeyConditionExpression: condition,
          FilterExpression: actorFilter !== undefined ? 'actor = :actor' : undefined,
          ExpressionAttributeNames: { '#pk': pkName },
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: range.limit,
          ExclusiveStartKey: start,
        }),
      ),
    (i) => AuditEntry.parse(i),
  );
}
