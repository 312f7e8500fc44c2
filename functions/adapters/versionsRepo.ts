/**
 * Version items (contract/tables.ts `versions`) and the transactions that keep the asset's live-version
 * counter (R-CAP) and the sparse resolvable indexes in step with them.
 */
import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { auditPut, type AuditPut } from './auditRepo.ts';
import { SYSTEM_ACTOR } from '../../contract/eventNames.ts';
import { versionKey } from '../../contract/keys.ts';
import { AssetItem, VersionItem, type Actor } from '../domain/model.ts';
import type { IndexSpan } from '../domain/spec.ts';
import { verifiedBlobs, verifiedIn } from './blobsRepo.ts';
import { cursorKeyNames, decodeCursor, encodeCursor } from './cursor.ts';
import { allItems, batchGet, call, conditionFailed, ddb, setClause, tables, transact, transactWrite, translateDynamoError, updateExpression, type CancelReason, type Item } from './dynamo.ts';
import { fromItem } from './dynamoBase.ts';
import { INDEX_ATTRIBUTE_NAMES, spanPartition } from './versionIndexes.ts';

/** Leaves every sparse index: a tombstone is in none of them. */
const LEAVE_INDEXES = INDEX_ATTRIBUTE_NAMES.join(', ');

const vkeyOf = (asset: string, version: string) => ({ asset, vkey: versionKey(version) });

export async function getVersion(asset: string, version: string, consistent = false): Promise<VersionItem | undefined> {
  const out = await call(() => ddb.send(new GetCommand({ TableName: tables.versions, Key: vkeyOf(asset, version), ConsistentRead: consistent })));
  return out.Item ? VersionItem.parse(out.Item) : undefined;
}

/**
 * The one read of version creation: the asset item and which of the files' blobs are verified (with the
 * object holding each one's verified bytes), in one
 * BatchGetItem (a version with more than 99 distinct digests needs more).
 */
export async function loadForCreate(name: string, sha256s: readonly string[]): Promise<{ asset?: AssetItem; verified: Map<string, string> }> {
  const distinct = [...new Set(sha256s)];
  const first = distinct.slice(0, 99);
  const found = await batchGet({
    [tables.assets]: { Keys: [{ name }], ConsistentRead: true },
    ...(first.length ? { [tables.blobs]: { Keys: first.map((sha256) => ({ sha256 })) } } : {}),
  });
  const assetItem = found[tables.assets]?.[0];
  const verified = verifiedIn(found[tables.blobs] ?? []);
  if (distinct.length > first.length) for (const [sha, key] of await verifiedBlobs(distinct.slice(first.length))) verified.set(sha, key);
  return { asset: assetItem ? AssetItem.parse(assetItem) : undefined, verified };
}

export interface Victim {
  item: VersionItem;
  /** `expired`: a pending version past its expiry; `evicted`: the cap policy `evict-oldest`. */
  reason: 'expired' | 'evicted';
}

export interface CreateTx {
  item: VersionItem;
  cap: number;
  /** Expired pending versions and the evicted version tombstoned in the same transaction. */
  victims: Victim[];
  /** Set the asset's highest version (the new one is above the highest seen). */
  raiseHighest: boolean;
  /** The `version.create` entry; each victim gets a `version.delete` by `system` beside it. */
  audit: AuditPut;
}

/**
 * The single TransactWriteItems of version creation: asset update (counter + highest, conditional on the
 * cap and on the highest seen) + conditional put of the version + tombstones of the victims + audit entries.
 * Returns the cancellation reasons, in that order, when it did not commit.
 */
export async function createVersionTx(tx: CreateTx): Promise<CancelReason[] | undefined> {
  const { item, victims } = tx;
  const evicting = victims.some((v) => v.reason === 'evicted');
  const victimReason = (v: Victim) => (v.reason === 'expired' ? 'pending version expired' : 'evicted by capPolicy evict-oldest');
  const freed = victims.length;
  const conditions = ['attribute_exists(#name)'];
  const values: Item = { ':delta': 1 - freed, ':now': item.createdAt, ':ukey': `${item.createdAt}#${item.asset}` };
  // Evicting keeps the count where it is, so the cap holds without a count condition.
  if (!evicting) {
    conditions.push('liveCount < :limit');
    values[':limit'] = tx.cap + freed;
  }
  let set = 'liveCount = liveCount + :delta, updatedAt = :now, updatedKey = :ukey';
  if (tx.raiseHighest) {
    conditions.push('(attribute_not_exists(highestKey) OR highestKey < :hk)');
    set += ', highestKey = :hk, highestVersion = :hv';
    values[':hk'] = item.vkey;
    values[':hv'] = item.version;
  }
  return transact(() =>
    ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: tables.assets,
              Key: { name: item.asset },
              UpdateExpression: `SET ${set}`,
              ConditionExpression: conditions.join(' AND '),
              ExpressionAttributeNames: { '#name': 'name' },
              ExpressionAttributeValues: values,
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          {
            Put: {
              TableName: tables.versions,
              Item: item,
              ConditionExpression: 'attribute_not_exists(vkey)',
            },
          },
          ...victims.map((v) => ({
            Update: {
              TableName: tables.versions,
              Key: { asset: v.item.asset, vkey: v.item.vkey },
              UpdateExpression:
                `SET #status = :deleted, deletedAt = :now, deletedBy = :by, deleteReason = :why, updatedAt = :now, rev = rev + :one REMOVE ${LEAVE_INDEXES}, pendingExpiresAt`,
              ConditionExpression:
                v.reason === 'expired'
                  ? '#status = :pending AND pendingExpiresAt <= :epoch'
                  : '#status = :ready AND attribute_not_exists(aliases)',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: {
                ':deleted': 'deleted',
                ':now': item.createdAt,
                ':by': SYSTEM_ACTOR,
                ':why': victimReason(v),
                ':one': 1,
                ...(v.reason === 'expired'
                  ? { ':pending': 'pending', ':epoch': Math.floor(Date.parse(item.createdAt) / 1000) }
                  : { ':ready': 'ready' }),
              },
            },
          })),
          tx.audit,
          ...victims.map((v) =>
            auditPut({ action: 'version.delete', actor: SYSTEM_ACTOR, asset: v.item.asset, version: v.item.version, reason: victimReason(v), at: item.createdAt }),
          ),
        ],
      }),
    ),
  );
}

/** Live versions that could make room at the cap: pending (maybe expired) and ready ones, with no files. */
export async function roomCandidates(asset: string): Promise<VersionItem[]> {
  const found: VersionItem[] = [];
  const items = allItems((start) =>
    ddb.send(
      new QueryCommand({
        TableName: tables.versions,
        KeyConditionExpression: 'asset = :a',
        FilterExpression: '#status IN (:pending, :ready)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':a': asset, ':pending': 'pending', ':ready': 'ready' },
        ExclusiveStartKey: start,
      }),
    ),
  );
  for await (const item of items) found.push(VersionItem.parse(item));
  return found;
}

/**
 * Tombstones a live version, decrements the counter and records `version.delete` by `actor`, in one
 * transaction; conditions on the status that was read and on no alias naming it. Not on `rev`: a metadata
 * edit landing meanwhile does not make the version less deletable, and 64 editors would otherwise starve
 * every delete.
 */
export async function tombstone(item: VersionItem, actor: Actor, reason: string | undefined, now: string): Promise<CancelReason[] | undefined> {
  const audit = auditPut({ action: 'version.delete', actor: actor.principal, requestId: actor.requestId, asset: item.asset, version: item.version, reason, at: now });
  return transact(() =>
    ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: tables.versions,
              Key: { asset: item.asset, vkey: item.vkey },
              UpdateExpression:
                'SET #status = :deleted, deletedAt = :now, deletedBy = :by, updatedAt = :now, rev = rev + :one' +
                (reason ? ', deleteReason = :why' : '') +
                ` REMOVE ${LEAVE_INDEXES}, pendingExpiresAt`,
              ConditionExpression: '#status = :seen AND attribute_not_exists(aliases)',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: {
                ':deleted': 'deleted',
                ':now': now,
                ':by': actor.principal,
                ':one': 1,
                ':seen': item.status,
                ...(reason ? { ':why': reason } : {}),
              },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          {
            Update: {
              TableName: tables.assets,
              Key: { name: item.asset },
              UpdateExpression: 'SET liveCount = liveCount - :one, updatedAt = :now, updatedKey = :ukey',
              ConditionExpression: 'attribute_exists(#name)',
              ExpressionAttributeNames: { '#name': 'name' },
              ExpressionAttributeValues: { ':one': 1, ':now': now, ':ukey': `${now}#${item.asset}` },
            },
          },
          audit,
        ],
      }),
    ),
  );
}

/**
 * Conditional update of one version: `fields` are SET (undefined ones REMOVEd), `rev` is bumped (and `filesRev`
 * when `files` is among them), and the update only applies while the item's status is in `statusIn` and, when
 * given, it is still at `rev` / `filesRev`. Returns the new item, or `undefined` with the old one when the
 * condition failed. With `audit`, the update and its audit entry are one transaction (which returns no new
 * image: it is `item` with `fields` applied, or, without a `rev` condition, read back).
 */
export async function updateVersion(
  item: VersionItem,
  fields: Item,
  expect: { rev?: number; filesRev?: number; statusIn: VersionItem['status'][]; noPendingFiles?: boolean },
  audit?: AuditPut,
): Promise<{ updated?: VersionItem; current?: VersionItem }> {
  const { set, remove, names, values } = setClause(fields);
  const statusValues = Object.fromEntries(expect.statusIn.map((s, i) => [`:st${i}`, s]));
  const conditions = ['attribute_exists(vkey)', `#status IN (${Object.keys(statusValues).join(', ')})`];
  const extra: Item = { ':one': 1 };
  if (expect.rev !== undefined) {
    conditions.push('rev = :rev');
    extra[':rev'] = expect.rev;
  }
  if (expect.filesRev !== undefined) {
    conditions.push(expect.filesRev === 0 ? '(attribute_not_exists(filesRev) OR filesRev = :frev)' : 'filesRev = :frev');
    extra[':frev'] = expect.filesRev;
  }
  if (expect.noPendingFiles) conditions.push('pendingFiles = :zero');
  const actions = [...set, 'rev = rev + :one'];
  const touchesFiles = 'files' in fields;
  if (touchesFiles) actions.push('filesRev = if_not_exists(filesRev, :zero) + :one');
  if (expect.noPendingFiles || touchesFiles) extra[':zero'] = 0;
  const update = {
    TableName: tables.versions,
    Key: { asset: item.asset, vkey: item.vkey },
    UpdateExpression: updateExpression(actions, remove),
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: { ...names, '#status': 'status' },
    ExpressionAttributeValues: { ...values, ...statusValues, ...extra },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
  if (audit) {
    const reasons = await transactWrite([{ Update: update }, audit]);
    if (!reasons) {
      // Without the rev condition, other changes may have landed since `item` was read: answer what is stored.
      if (expect.rev === undefined) return { updated: await getVersion(item.asset, item.version, true) };
      const filesRev = touchesFiles ? (item.filesRev ?? 0) + 1 : item.filesRev;
      return { updated: VersionItem.parse({ ...item, ...fields, rev: item.rev + 1, filesRev }) };
    }
    if (conditionFailed(reasons[0]) || reasons[0]?.Code === 'TransactionConflict') {
      return { current: reasons[0]?.Item ? VersionItem.parse(reasons[0].Item) : undefined };
    }
    throw new Error(`version update cancelled for reasons ${reasons.map((r) => r.Code).join(', ')}`);
  }
  try {
    const out = await ddb.send(new UpdateCommand({ ...update, ReturnValues: 'ALL_NEW' }));
    return { updated: VersionItem.parse(out.Attributes) };
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) {
      return { current: err.Item ? VersionItem.parse(fromItem(err.Item)) : undefined };
    }
    return translateDynamoError(err);
  }
}

export interface VersionFilter {
  status?: VersionItem['status'];
  paramsHash?: string;
  includeDeleted: boolean;
  limit: number;
  cursor?: string;
}

/** Versions newest first (or, by paramsHash, through the byParamsHash index). */
export async function listVersions(asset: string, f: VersionFilter): Promise<{ items: VersionItem[]; nextCursor?: string }> {
  const filters: string[] = [];
  const names: Record<string, string> = {};
  const values: Item = { ':a': asset };
  if (f.status) {
    filters.push('#status = :status');
    names['#status'] = 'status';
    values[':status'] = f.status;
  } else if (!f.includeDeleted) {
    filters.push('#status <> :deleted');
    names['#status'] = 'status';
    values[':deleted'] = 'deleted';
  }
  const input: QueryCommandInput = {
    TableName: tables.versions,
    KeyConditionExpression: 'asset = :a',
    ScanIndexForward: false,
    Limit: f.limit,
    ExclusiveStartKey: decodeCursor(
      f.cursor,
      cursorKeyNames('versions', f.paramsHash ? 'byParamsHash' : undefined),
      { name: 'asset', value: asset },
      // By paramsHash, the hash is a key condition, and DynamoDB refuses a start key outside it.
      (key) => f.paramsHash === undefined || key.paramsHash === f.paramsHash,
    ),
  };
  if (f.paramsHash) {
    input.IndexName = 'byParamsHash';
    input.KeyConditionExpression = 'asset = :a AND paramsHash = :h';
    values[':h'] = f.paramsHash;
  }
  if (filters.length) input.FilterExpression = filters.join(' AND ');
  if (Object.keys(names).length) input.ExpressionAttributeNames = names;
  input.ExpressionAttributeValues = values;
  const out = await call(() => ddb.send(new QueryCommand(input)));
  const items = (out.Items ?? []).map((i) => VersionItem.parse(i));
  // The byParamsHash index sorts by hash; within a page, still newest first.
  if (f.paramsHash) items.sort((a, b) => (a.vkey < b.vkey ? 1 : a.vkey > b.vkey ? -1 : 0));
  return { items, nextCursor: encodeCursor(out.LastEvaluatedKey) };
}

/** The key condition of one span's query (R-SPEC): DynamoDB bounds the candidates, not the caller. */
function spanQuery(asset: string, span: IndexSpan, publishedOnly: boolean) {
  const partition = spanPartition(asset, span, publishedOnly);
  const values: Record<string, string> = { ':a': partition.value };
  let key = `${partition.attribute} = :a`;
  if (span.prefix !== undefined) {
    key += ' AND begins_with(vkey, :p)';
    values[':p'] = span.prefix;
  } else if (span.from !== undefined && span.to !== undefined) {
    key += ' AND vkey BETWEEN :from AND :to';
    Object.assign(values, { ':from': span.from, ':to': span.to });
  } else if (span.from !== undefined) {
    key += ' AND vkey >= :from';
    values[':from'] = span.from;
  } else if (span.to !== undefined) {
    key += ' AND vkey <= :to';
    values[':to'] = span.to;
  }
  return { IndexName: partition.index, KeyConditionExpression: key, ExpressionAttributeValues: values };
}

/**
 * Queries the sparse indexes newest first, one page of `limit` items per span (the answer is among a span's
 * first items), the spans in parallel; then `accept` chooses among the spans' picks. With `publishedOnly` the
 * spans read the `published` index, which holds nothing else, so no filter and no paging.
 */
export async function queryResolvable(
  asset: string,
  plan: { spans: readonly IndexSpan[]; limit: number; publishedOnly: boolean },
  accept: (items: VersionItem[]) => VersionItem | undefined,
): Promise<VersionItem | undefined> {
  const picks = await Promise.all(
    plan.spans.map(async (span) => {
      const query = spanQuery(asset, span, plan.publishedOnly);
      const out = await call(() => ddb.send(new QueryCommand({ TableName: tables.versions, ...query, ScanIndexForward: false, Limit: plan.limit })));
      return accept((out.Items ?? []).map((i) => VersionItem.parse(i)));
    }),
  );
  return accept(picks.filter((p): p is VersionItem => p !== undefined));
}

/** Keys of every version of an asset, for cascading deletes, and which of them are live (announced when removed). */
export async function allVersionKeys(asset: string): Promise<{ keys: { asset: string; vkey: string }[]; live: { asset: string; vkey: string }[] }> {
  const keys: { asset: string; vkey: string }[] = [];
  const live: { asset: string; vkey: string }[] = [];
  const items = allItems((start) =>
    ddb.send(
      new QueryCommand({
        TableName: tables.versions,
        KeyConditionExpression: 'asset = :a',
        ProjectionExpression: 'asset, vkey, #status',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':a': asset },
        ExclusiveStartKey: start,
      }),
    ),
  );
  for await (const i of items) {
    const key = { asset: String(i.asset), vkey: String(i.vkey) };
    keys.push(key);
    if (i.status === 'ready' || i.status === 'published') live.push(key);
  }
  return { keys, live };
}
