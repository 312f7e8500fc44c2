/**
 * The outbox's read side: one DynamoDB stream record (one item's committed change) → the events it
 * means. Pure: the Lambda stream consumer and local mode's stream poller both call it.
 *
 * Records of one transaction are not delivered atomically, so each event is derived from a single item's
 * old and new image, never from several records. A cancelled transaction writes no record, hence no event.
 *
 * `eventId` is a digest of the table, the item's keys, the record's sequence number and the detail type,
 * so a redelivered record (Lambda retry, replay after a restart) yields the same ids.
 */
import { fromItem } from '../adapters/dynamoBase.ts';
import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import * as z from '../../contract/zod.ts';
import canonicalize from 'canonicalize';
import { TABLES } from '../../contract/tables.ts';
import { formatSpec } from '../domain/spec.ts';
import { SYSTEM_ACTOR } from '../../contract/eventNames.ts';
import type { ArcaEvent, DetailType, EventDetail, EventFile } from '../../contract/events.ts';

/** What both the Lambda event (`DynamoDBRecord`) and the Streams API (`_Record`) give for a record. */
export interface StreamRecordLike {
  eventName?: string;
  dynamodb?: {
    Keys?: Record<string, unknown>;
    NewImage?: Record<string, unknown>;
    OldImage?: Record<string, unknown>;
    SequenceNumber?: string;
    ApproximateCreationDateTime?: number | Date;
  };
}

type StreamTable = 'assets' | 'versions' | 'aliases';

/** Which table a record comes from, told by its key attributes (no stream ARN needed). */
export function tableOf(keys: Record<string, unknown>): StreamTable | undefined {
  if (TABLES.versions.sortKey.name in keys && TABLES.versions.partitionKey.name in keys) return 'versions';
  if (TABLES.aliases.sortKey.name in keys && TABLES.aliases.partitionKey.name in keys) return 'aliases';
  if (TABLES.assets.partitionKey.name in keys && Object.keys(keys).length === 1) return 'assets';
  return undefined;
}

const Actor = z.string().check(z.minLength(1));
const Time = z.string().check(z.minLength(1));

const FileItem = z.looseObject({
  path: z.string(),
  size: z.number(),
  sha256: z.string(),
  format: z.string(),
});

const VersionImage = z.looseObject({
  asset: z.string(),
  version: z.string(),
  status: z.string(),
  files: z.optional(z.array(FileItem)),
  createdBy: z.optional(Actor),
  updatedBy: z.optional(Actor),
  publishedBy: z.optional(Actor),
  deletedBy: z.optional(Actor),
  updatedAt: z.optional(Time),
  publishedAt: z.optional(Time),
  deletedAt: z.optional(Time),
  source: z.optional(z.looseObject({ flow: z.string(), run: z.string(), name: z.string() })),
});
type VersionImage = z.infer<typeof VersionImage>;

const AliasImage = z.looseObject({
  asset: z.string(),
  alias: z.string(),
  version: z.string(),
  updatedBy: z.optional(Actor),
  updatedAt: z.optional(Time),
  // Set just before a user's removal, so the REMOVE record's old image names who removed it.
  deletedBy: z.optional(Actor),
  deletedAt: z.optional(Time),
});

const AssetImage = z.looseObject({
  name: z.string(),
  createdBy: z.optional(Actor),
  createdAt: z.optional(Time),
  deletedBy: z.optional(Actor),
  deletedAt: z.optional(Time),
  deleteReason: z.optional(z.string()),
  status: z.optional(z.string()),
});
type AssetImage = z.infer<typeof AssetImage>;

const image = <T>(schema: z.ZodMiniType<T>, raw: Record<string, unknown> | undefined): T | undefined =>
  raw ? schema.parse(fromItem(raw as Record<string, AttributeValue>)) : undefined;

const recordTime = (record: StreamRecordLike): string => {
  const t = record.dynamodb?.ApproximateCreationDateTime;
  if (t instanceof Date) return t.toISOString();
  return new Date(t === undefined ? Date.now() : t * 1000).toISOString();
};

const iso = (value: string | undefined, fallback: string): string => {
  const ms = value === undefined ? NaN : Date.parse(value);
  return Number.isNaN(ms) ? fallback : new Date(ms).toISOString();
};

/** Room left for `files` under EventBridge's 256 KB per event, with margin for the envelope. */
export const MAX_FILES_BYTES = 200_000;

/** The version's files, or nothing when they would not fit an event. */
function eventFiles(v: VersionImage): { files?: EventFile[] } {
  const files = (v.files ?? []).map(({ path, size, sha256, format }) => ({ path, size, sha256, format }));
  return Buffer.byteLength(JSON.stringify(files)) <= MAX_FILES_BYTES ? { files } : {};
}

const LIVE = new Set(['ready', 'published']);
const assetGone = (a: AssetImage | undefined) => a === undefined || a.deletedAt !== undefined || a.status === 'deleted';

type Draft = Omit<EventDetail, 'eventId'> & { detailType: DetailType };

/** A version's arrival or publication: both announce the version with its files. */
const versionDraft = (next: VersionImage, detailType: DetailType, status: 'ready' | 'published', actor: string | undefined, at: string): Draft => ({
  detailType,
  asset: next.asset,
  version: next.version,
  status,
  ...eventFiles(next),
  actor: actor ?? next.updatedBy ?? SYSTEM_ACTOR,
  at,
});

function versionEvents(old: VersionImage | undefined, next: VersionImage | undefined, fallbackAt: string): Draft[] {
  const drafts: Draft[] = [];
  const before = old?.status;
  const after = next?.status;
  if (next && (after === 'ready' || after === 'published') && (before === undefined || before === 'pending')) {
    drafts.push(versionDraft(next, 'Asset Version Created', 'ready', next.createdBy, iso(next.updatedAt, fallbackAt)));
  }
  // A promoted output's version is written once, with its source: its creation is the promotion.
  if (next?.source && !old) {
    const { flow, run, name } = next.source;
    drafts.push({ detailType: 'Output Promoted', asset: next.asset, version: next.version, flow, run, output: name, actor: next.createdBy ?? SYSTEM_ACTOR, at: iso(next.updatedAt, fallbackAt) });
  }
  if (next && after === 'published' && before !== 'published') {
    drafts.push(versionDraft(next, 'Asset Version Published', 'published', next.publishedBy, iso(next.publishedAt ?? next.updatedAt, fallbackAt)));
  }
  // A pending version that is deleted or expires never "arrived", so its end is not announced either.
  if (old && LIVE.has(old.status) && (next === undefined || after === 'deleted')) {
    drafts.push({
      detailType: 'Asset Version Deleted',
      asset: old.asset,
      version: old.version,
      status: 'deleted',
      // A version removed with its asset was marked with the deleting user first.
      actor: next?.deletedBy ?? next?.updatedBy ?? old.deletedBy ?? SYSTEM_ACTOR,
      at: iso(next?.deletedAt ?? next?.updatedAt, fallbackAt),
    });
  }
  return drafts;
}

function aliasEvents(
  old: z.infer<typeof AliasImage> | undefined,
  next: z.infer<typeof AliasImage> | undefined,
  fallbackAt: string,
): Draft[] {
  if (next && old?.version === next.version) return [];
  const item = next ?? old;
  if (!item) return [];
  return [
    {
      detailType: 'Alias Updated',
      asset: item.asset,
      alias: item.alias,
      ...(next ? { version: next.version } : {}),
      actor: next ? (next.updatedBy ?? SYSTEM_ACTOR) : (old?.deletedBy ?? SYSTEM_ACTOR),
      at: iso(next ? next.updatedAt : old?.deletedAt, fallbackAt),
    },
  ];
}

function assetEvents(old: AssetImage | undefined, next: AssetImage | undefined, fallbackAt: string): Draft[] {
  if (!old && next && !assetGone(next)) {
    return [{ detailType: 'Asset Created', asset: next.name, actor: next.createdBy ?? SYSTEM_ACTOR, at: iso(next.createdAt, fallbackAt) }];
  }
  if (old && !assetGone(old) && assetGone(next)) {
    return [
      {
        detailType: 'Asset Deleted',
        asset: old.name,
        actor: next?.deletedBy ?? SYSTEM_ACTOR,
        at: iso(next?.deletedAt, fallbackAt),
        ...(next?.deleteReason ? { reason: next.deleteReason } : {}),
      },
    ];
  }
  return [];
}

export function eventId(table: StreamTable, keys: Record<string, unknown>, sequenceNumber: string, detailType: DetailType): string {
  return createHash('sha256')
    .update(canonicalize([table, keys, sequenceNumber, detailType]) ?? '')
    .digest('hex');
}

const RecordsImage = z.looseObject({ asset: z.string(), version: z.string(), records: z.optional(z.array(z.string())) });

/**
 * The lineage edges a versions record carries: a new version's records (exact `asset:version` specs), as
 * `downstream` (the version, `asset:version`) and its `upstreams`. Only an INSERT: records never change after.
 */
export function recordedEdges(record: StreamRecordLike): { downstream: string; upstreams: string[] } | undefined {
  const data = record.dynamodb;
  if (record.eventName !== 'INSERT' || !data?.Keys || !data.NewImage) return undefined;
  if (tableOf(fromItem(data.Keys as Record<string, AttributeValue>)) !== 'versions') return undefined;
  const item = image(RecordsImage, data.NewImage);
  if (!item?.records?.length) return undefined;
  return { downstream: formatSpec(item.asset, item.version), upstreams: item.records };
}

/** The events one stream record means; `[]` for changes nobody subscribes to (counters, metadata edits). */
export function deriveEvents(record: StreamRecordLike): ArcaEvent[] {
  const data = record.dynamodb;
  if (!data?.Keys || !data.SequenceNumber) return [];
  const keys = fromItem(data.Keys as Record<string, AttributeValue>);
  const table = tableOf(keys);
  if (!table) return [];
  const at = recordTime(record);
  const old = data.OldImage;
  const next = record.eventName === 'REMOVE' ? undefined : data.NewImage;
  let drafts: Draft[];
  if (table === 'versions') drafts = versionEvents(image(VersionImage, old), image(VersionImage, next), at);
  else if (table === 'aliases') drafts = aliasEvents(image(AliasImage, old), image(AliasImage, next), at);
  else drafts = assetEvents(image(AssetImage, old), image(AssetImage, next), at);
  const sequenceNumber = data.SequenceNumber;
  return drafts.map(({ detailType, ...detail }) => ({
    detailType,
    detail: { eventId: eventId(table, keys, sequenceNumber, detailType), ...detail },
  }));
}
