/**
 * Grant items (docs/grants.md): one per (principal, prefix), written only by the write group. Listing by
 * principal is a Query of its partition; without a principal it is a Scan (a registry holds few grants).
 */
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import * as z from '../../contract/zod.ts';
import { grantPrefixKey } from '../../contract/tables.ts';
import { GrantRequest } from '../../contract/readSchemas.ts';
import type { GrantRecord, Page } from '../../contract/schemas.ts';
import type { AuditPut } from './auditRepo.ts';
import { allItems, conditionFailed, ddb, queryPage, tables, transactWrite } from './dynamo.ts';

/** A stored grant; parsing drops the key attribute `prefixKey`. */
export const GrantItem = z.object({ ...GrantRequest.shape, grantedBy: z.string(), grantedAt: z.string() });
export type GrantItem = z.infer<typeof GrantItem> & GrantRecord;

/** Upserts: the same (principal, prefix) again replaces the role; `audit` records it in the same transaction. */
export async function putGrant(grant: GrantItem, audit: AuditPut): Promise<void> {
  const reasons = await transactWrite([{ Put: { TableName: tables.grants, Item: { ...grant, prefixKey: grantPrefixKey(grant.prefix) } } }, audit]);
  if (reasons) throw new Error(`grant write cancelled for reasons ${reasons.map((r) => r.Code).join(', ')}`);
}

/** Deletes the grant with its audit entry; returns whether there was one (none: nothing is recorded). */
export async function deleteGrant(principal: string, prefix: string, audit: AuditPut): Promise<boolean> {
  const reasons = await transactWrite([
    { Delete: { TableName: tables.grants, Key: { principal, prefixKey: grantPrefixKey(prefix) }, ConditionExpression: 'attribute_exists(principal)' } },
    audit,
  ]);
  if (!reasons) return true;
  if (conditionFailed(reasons[0])) return false;
  throw new Error(`grant removal cancelled for reasons ${reasons.map((r) => r.Code).join(', ')}`);
}

export interface GrantFilter {
  principal?: string;
  prefix?: string;
}

export function listGrants(filter: GrantFilter, limit: number, cursor?: string): Promise<Page<GrantItem>> {
  const { principal, prefix } = filter;
  const prefixValues = prefix ? { ':p': grantPrefixKey(prefix) } : {};
  return queryPage(
    { table: 'grants', partition: principal === undefined ? undefined : { name: 'principal', value: principal }, cursor },
    (start) =>
      principal === undefined
        ? ddb.send(
            new ScanCommand({
              TableName: tables.grants,
              Limit: limit,
              ExclusiveStartKey: start,
              ConsistentRead: true,
              ...(prefix ? { FilterExpression: 'begins_with(prefixKey, :p)', ExpressionAttributeValues: prefixValues } : {}),
            }),
          )
        : ddb.send(
            new QueryCommand({
              TableName: tables.grants,
              KeyConditionExpression: prefix ? 'principal = :u AND begins_with(prefixKey, :p)' : 'principal = :u',
              ExpressionAttributeValues: { ':u': principal, ...prefixValues },
              Limit: limit,
              ExclusiveStartKey: start,
              ConsistentRead: true,
            }),
          ),
    (i) => GrantItem.parse(i),
  );
}

/** Every grant in the table: the authorization cache's one read per refresh (a Scan, paged by DynamoDB only past 1 MB). */
export async function allGrants(): Promise<GrantItem[]> {
  const items: GrantItem[] = [];
  for await (const item of allItems((start) => ddb.send(new ScanCommand({ TableName: tables.grants, ExclusiveStartKey: start, ConsistentRead: true })))) {
    items.push(GrantItem.parse(item));
  }
  return items;
}
