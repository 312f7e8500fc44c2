/**
 * Table schemas and key builders: the single source of truth for the CDK stack (lib/) and local mode
 * (local/), which both create tables from `TABLES`. Free of AWS imports.
 *
 * Design (docs/api.md, "How the keys make the promises hold"):
 * - assets:   one item per asset; holds the live-version counter (R-CAP) and the highest version key
 *             ever used (for `bump`, tombstones included).
 * - versions: one item per version, tombstones included, sorted by `vkey` (a zero-padded semver key whose
 *             string order is semver precedence). Two sparse indexes hold only resolvable versions, so any
 *             spec resolves in one Query whatever the number of tombstones:
 *               `live`   (pk `liveAsset`)   ready + published, pre-releases included;
 *               `stable` (pk `stableAsset`) ready + published, no pre-releases (`latest`, partials, plain ranges);
 *               `published` (pk `publishedAsset`) published only, in two partitions: releases under
 *                        `<asset>`, pre-releases under `<asset>#pre` (`publishedKey`), so a `stage=published`
 *                        span is the same bounded Query as on `stable` / `live`, with no status filter. One
 *                        index, not two: CloudFormation adds one GSI per table update, so an existing stack
 *                        takes it in one deploy.
 *             A version item also carries the set of aliases pointing at it, so resolve needs no second read.
 * - aliases:  one item per (asset, alias).
 * - blobs:    one item per verified SHA-256 (dedup: `present`; `key` names the verified object), and one per
 *             upload object that needs a record (`<hex>/<nonce>`: a rejection, legal-hold holders).
 * - idempotency: Powertools idempotency records for `Idempotency-Key`.
 * - hooks:    one item per webhook, its secret encrypted (KMS in AWS, a local key in local mode).
 * - deliveries: one item per delivery attempt of a webhook, newest last under the hook; expire after 30 days.
 * - outputs:  one item per run output (pk `runKey` = `<flow>/<run>`, sk `name`), deleted by TTL after
 *             `ttlDays`. The KEYS_ONLY index `byFlow` (pk `flow`, sk `<createdAt>#<run>#<name>`) answers
 *             "the flow's most recent run" with one Query (Limit 1, newest first).
 * - lineage:  one edge item per (record, version recording it): pk `upstream` = `<asset>:<version>` recorded,
 *             sk `downstream` = `<asset>:<version>` that records it, so "who uses X" is one Query.
 * - grants:   one item per (principal, prefix) granted a role at run time by an admin (docs/grants.md).
 *             DynamoDB refuses an empty string in a key, and `''` (every name) is the commonest prefix, so
 *             the sort key is the prefix behind a `p#` marker (`grantPrefixKey`).
 * - audit:    one item per recorded change, append-only (never updated or deleted by the service). Every
 *             index sorts by `atKey` (`<ISO time>#<id>`), so each filter of `GET /v1/audit` is one Query:
 *             `byAsset` (pk `asset`), `byActor` (pk `actor`), `byTime` (pk `listPk`, constant `all`), and
 *             `byAlias` (pk `aliasKey` = `<asset>#<alias>`, only on alias moves and deletes) for alias history.
 */
export type AttributeType = 'S' | 'N';

export interface KeyAttribute {
  name: string;
  type: AttributeType;
}

export interface IndexSchema {
  indexName: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  projection: 'ALL' | 'KEYS_ONLY';
}

export interface TableSchema {
  /** Logical id: construct id in CDK, table-name suffix in local mode. */
  id: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  globalIndexes?: IndexSchema[];
  /** Attribute DynamoDB's TTL deletes on (epoch seconds). */
  ttlAttribute?: string;
  /** Whether the table feeds the event outbox (DynamoDB Streams, new and old images). */
  stream?: boolean;
}

export const TABLES = {
  assets: {
    id: 'Assets',
    partitionKey: { name: 'name', type: 'S' },
    globalIndexes: [
      // Constant partition `all`: assets listed by name or by last update; a registry holds few enough assets.
      { indexName: 'byName', partitionKey: { name: 'listPk', type: 'S' }, sortKey: { name: 'name', type: 'S' }, projection: 'ALL' },
      { indexName: 'byUpdated', partitionKey: { name: 'listPk', type: 'S' }, sortKey: { name: 'updatedKey', type: 'S' }, projection: 'ALL' },
    ],
    stream: true,
  },
  versions: {
    id: 'Versions',
    partitionKey: { name: 'asset', type: 'S' },
    sortKey: { name: 'vkey', type: 'S' },
    globalIndexes: [
      { indexName: 'live', partitionKey: { name: 'liveAsset', type: 'S' }, sortKey: { name: 'vkey', type: 'S' }, projection: 'ALL' },
      { indexName: 'stable', partitionKey: { name: 'stableAsset', type: 'S' }, sortKey: { name: 'vkey', type: 'S' }, projection: 'ALL' },
      { indexName: 'published', partitionKey: { name: 'publishedAsset', type: 'S' }, sortKey: { name: 'vkey', type: 'S' }, projection: 'ALL' },
      { indexName: 'byParamsHash', partitionKey: { name: 'asset', type: 'S' }, sortKey: { name: 'paramsHash', type: 'S' }, projection: 'ALL' },
    ],
    stream: true,
  },
  aliases: {
    id: 'Aliases',
    partitionKey: { name: 'asset', type: 'S' },
    sortKey: { name: 'alias', type: 'S' },
    stream: true,
  },
  blobs: {
    id: 'Blobs',
    partitionKey: { name: 'sha256', type: 'S' },
  },
  idempotency: {
    id: 'Idempotency',
    partitionKey: { name: 'id', type: 'S' },
    ttlAttribute: 'expiration',
  },
  hooks: {
    id: 'Hooks',
    partitionKey: { name: 'id', type: 'S' },
  },
  deliveries: {
    id: 'Deliveries',
    partitionKey: { name: 'hookId', type: 'S' },
    // `<ISO time>#<eventId>#<attempt>`: attempts in time order.
    sortKey: { name: 'sk', type: 'S' },
    ttlAttribute: 'expiresAt',
  },
  outputs: {
    id: 'Outputs',
    partitionKey: { name: 'runKey', type: 'S' },
    sortKey: { name: 'name', type: 'S' },
    globalIndexes: [
      { indexName: 'byFlow', partitionKey: { name: 'flow', type: 'S' }, sortKey: { name: 'createdKey', type: 'S' }, projection: 'KEYS_ONLY' },
    ],
    ttlAttribute: 'expiresAt',
  },
  lineage: {
    id: 'Lineage',
    partitionKey: { name: 'upstream', type: 'S' },
    sortKey: { name: 'downstream', type: 'S' },
  },
  grants: {
    id: 'Grants',
    partitionKey: { name: 'principal', type: 'S' },
    sortKey: { name: 'prefixKey', type: 'S' },
  },
  audit: {
    id: 'Audit',
    partitionKey: { name: 'id', type: 'S' },
    globalIndexes: [
      { indexName: 'byAsset', partitionKey: { name: 'asset', type: 'S' }, sortKey: { name: 'atKey', type: 'S' }, projection: 'ALL' },
      { indexName: 'byActor', partitionKey: { name: 'actor', type: 'S' }, sortKey: { name: 'atKey', type: 'S' }, projection: 'ALL' },
      { indexName: 'byTime', partitionKey: { name: 'listPk', type: 'S' }, sortKey: { name: 'atKey', type: 'S' }, projection: 'ALL' },
      { indexName: 'byAlias', partitionKey: { name: 'aliasKey', type: 'S' }, sortKey: { name: 'atKey', type: 'S' }, projection: 'ALL' },
    ],
  },
} as const satisfies Record<string, TableSchema>;

export type TableName = keyof typeof TABLES;

/**
 * The `published` index partition of a published version: its releases apart from its pre-releases (`#` is in
 * no asset name), so the releases' partition mirrors `stable` and a pre-release span reads pre-releases only.
 */
export const publishedKey = (asset: string, prerelease: boolean): string => (prerelease ? `${asset}#pre` : asset);

/** The constant partition of the asset listing indexes. */
export const ASSET_LIST_PK = 'all';

/** The sort key of a grant on `prefix` (an empty prefix cannot be a DynamoDB key on its own). */
export const grantPrefixKey = (prefix: string): string => `p#${prefix}`;
/** The constant partition of the audit's all-by-time index. */
export const AUDIT_LIST_PK = 'all';
