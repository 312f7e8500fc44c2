/**
 * Alias items and alias moves (R-ALIAS). A move is one transaction: the alias item (conditional on the
 * version it pointed at when read), ADD to the new version's `aliases` set (conditional on it being
 * resolvable), DELETE from the old version's set. So the sets and the alias items never disagree.
 */
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { versionKey } from '../../contract/keys.ts';
import { AliasItem } from '../domain/model.ts';
import type { AuditPut } from './auditRepo.ts';
import { allItems, call, ddb, queryPage, tables, transact, transactWrite, type CancelReason } from './dynamo.ts';

export async function getAlias(asset: string, alias: string): Promise<AliasItem | undefined> {
  const out = await call(() => ddb.send(new GetCommand({ TableName: tables.aliases, Key: { asset, alias } })));
  return out.Item ? AliasItem.parse(out.Item) : undefined;
}

export const listAliases = (asset: string, limit = 100, cursor?: string): Promise<{ items: AliasItem[]; nextCursor?: string }> =>
  queryPage(
    { table: 'aliases', partition: { name: 'asset', value: asset }, cursor },
    (start) =>
      ddb.send(
        new QueryCommand({
          TableName: tables.aliases,
          KeyConditionExpression: 'asset = :a',
          ExpressionAttributeValues: { ':a': asset },
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      ),
    (i) => AliasItem.parse(i),
  );

/** Keys of every alias of an asset, for cascading deletes. */
export async function allAliasKeys(asset: string): Promise<{ asset: string; alias: string }[]> {
  const keys: { asset: string; alias: string }[] = [];
  const items = allItems((start) =>
    ddb.send(
      new QueryCommand({
        TableName: tables.aliases,
        KeyConditionExpression: 'asset = :a',
        ProjectionExpression: 'asset, #alias',
        ExpressionAttributeNames: { '#alias': 'alias' },
        ExpressionAttributeValues: { ':a': asset },
        ExclusiveStartKey: start,
      }),
    ),
  );
  for await (const i of items) keys.push({ asset: String(i.asset), alias: String(i.alias) });
  return keys;
}

const removeFrom = (asset: string, version: string, alias: string) => ({
  Update: {
    TableName: tables.versions,
    Key: { asset, vkey: versionKey(version) },
    UpdateExpression: 'DELETE aliases :set',
    ConditionExpression: 'attribute_exists(vkey)',
    ExpressionAttributeValues: { ':set': new Set([alias]) },
  },
});

/**
 * For a caller below publisher: the asset must not list the alias in `protectedAliases`, checked in the
 * same transaction so a list changed meanwhile cannot be raced. Placed last, so earlier reasons keep their index.
 */
const unprotected = (asset: string, alias: string) => ({
  ConditionCheck: {
    TableName: tables.assets,
    Key: { name: asset },
    ConditionExpression: 'attribute_not_exists(protectedAliases) OR NOT contains(protectedAliases, :alias)',
    ExpressionAttributeValues: { ':alias': alias },
  },
});

/**
 * Points `item.alias` at `item.version`; `previous` is the version it pointed at when read (undefined: it
 * did not exist); `audit` records the move in the same transaction; `guard` refuses (a failed last reason)
 * when the alias is protected, for callers below publisher. Reasons: [alias, new version, old version?, audit, guard?].
 */
export async function moveAlias(item: AliasItem, previous: string | undefined, guard: boolean, audit: AuditPut): Promise<CancelReason[] | undefined> {
  return transact(() =>
    ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: tables.aliases,
              Item: item,
              ConditionExpression: previous === undefined ? 'attribute_not_exists(alias)' : 'version = :prev',
              ExpressionAttributeValues: previous === undefined ? undefined : { ':prev': previous },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          {
            Update: {
              TableName: tables.versions,
              Key: { asset: item.asset, vkey: versionKey(item.version) },
              UpdateExpression: 'ADD aliases :set',
              ConditionExpression: '#status IN (:ready, :published)',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':set': new Set([item.alias]), ':ready': 'ready', ':published': 'published' },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          ...(previous === undefined ? [] : [removeFrom(item.asset, previous, item.alias)]),
          audit,
          ...(guard ? [unprotected(item.asset, item.alias)] : []),
        ],
      }),
    ),
  );
}

/**
 * Marks the alias with who removes it (a stream REMOVE record carries no actor; `Alias Updated` takes it
 * from the old image's `deletedBy`), conditional on it pointing at `version` when given, else on it existing.
 */
export const markAliasDeleted = (asset: string, alias: string, deletedBy: string, version?: string) => ({
  Update: {
    TableName: tables.aliases,
    Key: { asset, alias },
    UpdateExpression: 'SET deletedBy = :by, deletedAt = :at',
    ConditionExpression: version === undefined ? 'attribute_exists(alias)' : 'version = :v',
    ExpressionAttributeValues: { ':by': deletedBy, ':at': new Date().toISOString(), ...(version === undefined ? {} : { ':v': version }) },
  },
});

/**
 * `guard` as for `moveAlias`. Deletes the alias if it still points at `version`, and takes it out of that version's set: first the
 * mark (its own request: one transaction cannot touch an item twice), then the removal with its audit entry.
 */
export async function deleteAlias(asset: string, alias: string, version: string, guard: boolean, by: string, audit: AuditPut): Promise<CancelReason[] | undefined> {
  const marked = await transactWrite([markAliasDeleted(asset, alias, by, version)]);
  if (marked) return marked;
  return transact(() =>
    ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Delete: {
              TableName: tables.aliases,
              Key: { asset, alias },
              ConditionExpression: 'version = :v',
              ExpressionAttributeValues: { ':v': version },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          removeFrom(asset, version, alias),
          audit,
          ...(guard ? [unprotected(asset, alias)] : []),
        ],
      }),
    ),
  );
}
