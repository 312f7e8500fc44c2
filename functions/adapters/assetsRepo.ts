/** Asset items (contract/tables.ts `assets`): create, read, conditional edit, list, cascade delete. */
import { DeleteCommand, GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ASSET_LIST_PK } from '../../contract/tables.ts';
import { conflict } from '../shared/errors.ts';
import { AssetItem } from '../domain/model.ts';
import { cursorKeyNames, decodeCursor, encodeCursor, type CursorKey } from './cursor.ts';
import { markAliasDeleted } from './aliasesRepo.ts';
import { auditPut, type AuditPut } from './auditRepo.ts';
import { batchDelete, call, conditionFailed, ddb, setClause, tables, transactWrite, updateExpression, type Item } from './dynamo.ts';

/** Lower-cased text that `q` searches: name, description and tags. */
const searchText = (a: Pick<AssetItem, 'name' | 'description' | 'tags'>): string =>
  [a.name, a.description ?? '', ...a.tags].join('\n').toLowerCase();

const listAttributes = (a: AssetItem) => ({ listPk: ASSET_LIST_PK, updatedKey: `${a.updatedAt}#${a.name}`, search: searchText(a) });

export async function getAsset(name: string, consistent = false): Promise<AssetItem | undefined> {
  const out = await call(() => ddb.send(new GetCommand({ TableName: tables.assets, Key: { name }, ConsistentRead: consistent })));
  return out.Item ? AssetItem.parse(out.Item) : undefined;
}

/** Creates the asset and its audit entry in one transaction. */
export async function putNewAsset(asset: AssetItem, audit: AuditPut): Promise<void> {
  const reasons = await transactWrite([
    {
      Put: {
        TableName: tables.assets,
        Item: { ...asset, ...listAttributes(asset) },
        ConditionExpression: 'attribute_not_exists(#name)',
        ExpressionAttributeNames: { '#name': 'name' },
      },
    },
    audit,
  ]);
  if (conditionFailed(reasons?.[0])) throw conflict('AlreadyExists', `asset ${asset.name} already exists`, { name: asset.name });
  if (reasons) throw new Error(`asset creation cancelled for reasons ${reasons.map((r) => r.Code).join(', ')}`);
}

/**
 * Applies an edit and records `audit`, in one transaction, if the asset is still at revision `rev`. Returns
 * the new item, or `current` (undefined when the asset is gone) when the revision moved.
 */
export async function updateAsset(next: AssetItem, rev: number, audit: AuditPut): Promise<{ updated?: AssetItem; current?: AssetItem }> {
  const fields: Item = {
    description: next.description,
    tags: next.tags,
    capPolicy: next.capPolicy,
    protectedAliases: next.protectedAliases,
    updatedAt: next.updatedAt,
    updatedBy: next.updatedBy,
    ...listAttributes(next),
    rev: rev + 1,
  };
  const { set, remove, names, values } = setClause(fields);
  const reasons = await transactWrite([
    {
      Update: {
        TableName: tables.assets,
        Key: { name: next.name },
        UpdateExpression: updateExpression(set, remove),
        ConditionExpression: 'rev = :rev',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...values, ':rev': rev },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    },
    audit,
  ]);
  if (!reasons) return { updated: { ...next, rev: rev + 1 } };
  const old = reasons[0];
  if (conditionFailed(old) || old?.Code === 'TransactionConflict') return { current: old?.Item ? AssetItem.parse(old.Item) : undefined };
  throw new Error(`asset edit cancelled for reasons ${reasons.map((r) => r.Code).join(', ')}`);
}

export interface AssetQuery {
  prefix?: string;
  type?: string;
  tag?: string;
  q?: string;
  sort: 'name' | 'updated';
  order: 'asc' | 'desc';
  limit: number;
  cursor?: string;
}

/** One page of the listing index: by name (prefix as a key condition) or by last update. */
export async function listAssets(query: AssetQuery): Promise<{ items: AssetItem[]; nextCursor?: string }> {
  const filters: string[] = [];
  const names: Record<string, string> = {};
  const values: Item = { ':pk': ASSET_LIST_PK };
  let keyCondition = 'listPk = :pk';
  if (query.prefix) {
    values[':prefix'] = query.prefix;
    if (query.sort === 'name') keyCondition += ' AND begins_with(#name, :prefix)';
    else filters.push('begins_with(#name, :prefix)');
    names['#name'] = 'name';
  }
  if (query.type) {
    filters.push('#type = :type');
    names['#type'] = 'type';
    values[':type'] = query.type;
  }
  if (query.tag) {
    filters.push('contains(tags, :tag)');
    values[':tag'] = query.tag;
  }
  if (query.q) {
    filters.push('contains(#search, :q)');
    names['#search'] = 'search';
    values[':q'] = query.q.toLowerCase();
  }
  const index = query.sort === 'name' ? 'byName' : 'byUpdated';
  const { prefix } = query;
  // By name, the prefix is a key condition, and DynamoDB refuses a start key outside it.
  const within = index === 'byName' && prefix ? (key: CursorKey) => key.name?.startsWith(prefix) === true : undefined;
  const start = decodeCursor(query.cursor, cursorKeyNames('assets', index), { name: 'listPk', value: ASSET_LIST_PK }, within);
  const input: QueryCommandInput = {
    TableName: tables.assets,
    IndexName: index,
    KeyConditionExpression: keyCondition,
    FilterExpression: filters.length ? filters.join(' AND ') : undefined,
    ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
    ExpressionAttributeValues: values,
    ScanIndexForward: query.order === 'asc',
    // DynamoDB applies Limit before the filter: a filtered listing reads wider pages and keeps what matches.
    Limit: filters.length ? FILTERED_READ : query.limit,
  };
  return fillPage(input, start, query.limit, cursorKeyNames('assets', index));
}

/** Items one filtered read evaluates, and the reads one listing page may take (≤ 1,000 assets looked at). */
const FILTERED_READ = 100;
const MAX_READS = 10;

/**
 * Reads until `limit` matches or the end, so a match is never hidden behind an empty page. Past MAX_READS the
 * page is answered short, with the cursor where the reads stopped (the rest of the listing is behind it).
 * A page cut inside a read resumes after its last item, whose key attributes are a valid start key.
 */
async function fillPage(input: QueryCommandInput, start: CursorKey | undefined, limit: number, keyNames: string[]): Promise<{ items: AssetItem[]; nextCursor?: string }> {
  const raw: Item[] = [];
  let from: Record<string, unknown> | undefined = start;
  for (let read = 0; read < MAX_READS; read++) {
    const out = await call(() => ddb.send(new QueryCommand({ ...input, ExclusiveStartKey: from })));
    const found = out.Items ?? [];
    const room = limit - raw.length;
    raw.push(...found.slice(0, room));
    from = out.LastEvaluatedKey;
    if (found.length >= room) {
      const last = raw.at(-1);
      const more = found.length > room || from !== undefined;
      return { items: raw.map((i) => AssetItem.parse(i)), nextCursor: more && last ? encodeCursor(Object.fromEntries(keyNames.map((k) => [k, last[k]]))) : undefined };
    }
    if (!from) break;
  }
  return { items: raw.map((i) => AssetItem.parse(i)), nextCursor: encodeCursor(from) };
}

/**
 * Removes the asset item last, after its versions and aliases, so a half-done delete can be re-run. The
 * item is first marked with who deletes it and why: item removals carry neither, and `Asset Deleted` needs them.
 */
export async function deleteAssetCascade(
  name: string,
  versions: { keys: Item[]; live: Item[] },
  aliasKeys: { asset: string; alias: string }[],
  deletion: { deletedBy: string; deleteReason?: string; requestId?: string; now: string; audit: AuditPut },
): Promise<void> {
  const { set, remove, names, values } = setClause({ deletedAt: deletion.now, deletedBy: deletion.deletedBy, deleteReason: deletion.deleteReason });
  // The mark and the one `asset.delete` audit entry (with the reason) share a transaction; the versions and
  // aliases removed after it are covered by that entry, so no transaction nears the 100-item limit.
  const reasons = await transactWrite([
    {
      Update: {
        TableName: tables.assets,
        Key: { name },
        UpdateExpression: updateExpression(set, remove),
        ConditionExpression: 'attribute_exists(#name)',
        ExpressionAttributeNames: { ...names, '#name': 'name' },
        ExpressionAttributeValues: values,
      },
    },
    deletion.audit,
  ]);
  // Deleted meanwhile by another request (which recorded it): what is left of it is still removed below.
  if (reasons && !conditionFailed(reasons[0])) throw new Error(`asset deletion cancelled for reasons ${reasons.map((r) => r.Code).join(', ')}`);
  // Each alias is marked and its `alias.delete` recorded (one small transaction each: an asset has few
  // aliases), so its history ends at the deletion; live versions are marked so their removal events name
  // the user. A key removed meanwhile fails its condition and is skipped.
  for (const a of aliasKeys) {
    const audit = auditPut({ action: 'alias.delete', actor: deletion.deletedBy, requestId: deletion.requestId, asset: a.asset, alias: a.alias, reason: deletion.deleteReason, at: deletion.now });
    await transactWrite([markAliasDeleted(a.asset, a.alias, deletion.deletedBy), audit]);
  }
  for (const key of versions.live) {
    const mark = { TableName: tables.versions, Key: key, UpdateExpression: 'SET deletedBy = :by', ConditionExpression: 'attribute_exists(vkey)' };
    await transactWrite([{ Update: { ...mark, ExpressionAttributeValues: { ':by': deletion.deletedBy } } }]);
  }
  await batchDelete(tables.aliases, aliasKeys);
  await batchDelete(tables.versions, versions.keys);
  await call(() => ddb.send(new DeleteCommand({ TableName: tables.assets, Key: { name } })));
}
