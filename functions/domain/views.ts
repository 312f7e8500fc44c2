/** Stored items → the API's records (contract/schemas.ts response types). */
import type { AliasRecord, AssetRecord, FileRecord, VersionRecord } from '../../contract/schemas.ts';
import { effectiveStatus, type AliasItem, type AssetItem, type StoredFile, type VersionItem } from './model.ts';

export const etagOf = (rev: number): string => `"${rev}"`;

export const fileRecord = (f: StoredFile): FileRecord => ({
  path: f.path,
  size: f.size,
  sha256: f.sha256,
  format: f.format,
  ...(f.contentType ? { contentType: f.contentType } : {}),
});

export function versionRecord(v: VersionItem, files: FileRecord[] = v.files.map(fileRecord)): VersionRecord {
  const status = effectiveStatus(v);
  return {
    asset: v.asset,
    version: v.version,
    status,
    files,
    formats: [...new Set(v.files.map((f) => f.format))].sort(),
    size: v.files.reduce((n, f) => n + f.size, 0),
    description: v.description,
    tags: v.tags,
    hyperparameters: v.hyperparameters,
    config: v.config,
    metrics: v.metrics,
    records: v.records,
    params: v.params,
    paramsHash: v.paramsHash ?? null,
    aliases: [...(v.aliases ?? [])].sort(),
    createdAt: v.createdAt,
    createdBy: v.createdBy,
    updatedAt: v.updatedAt,
    publishedAt: v.publishedAt,
    deletedAt: v.deletedAt,
    deletedBy: v.deletedBy,
    deleteReason: v.deleteReason,
    expiresAt: v.pendingExpiresAt !== undefined ? new Date(v.pendingExpiresAt * 1000).toISOString() : undefined,
    etag: etagOf(v.rev),
  };
}

export type AssetSummary = Omit<AssetRecord, 'latest' | 'aliases'>;

export const assetSummary = (a: AssetItem): AssetSummary => ({
  name: a.name,
  type: a.type,
  description: a.description,
  tags: a.tags,
  capPolicy: a.capPolicy,
  liveVersions: a.liveCount,
  createdAt: a.createdAt,
  createdBy: a.createdBy,
  updatedAt: a.updatedAt,
  etag: etagOf(a.rev),
});

export const assetRecord = (a: AssetItem, latest: string | undefined, aliases: AliasItem[]): AssetRecord => ({
  ...assetSummary(a),
  latest,
  aliases: aliases.map((x) => ({ alias: x.alias, version: x.version })),
});

export const aliasRecord = (a: AliasItem): AliasRecord => ({ alias: a.alias, version: a.version, updatedAt: a.updatedAt, updatedBy: a.updatedBy });

/** `If-Match` against a revision: `*` or any listed (weak or strong) ETag equal to it. */
export function ifMatchHolds(ifMatch: string | undefined, rev: number): boolean {
  if (ifMatch === undefined) return true;
  return ifMatch
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === etagOf(rev) || t === String(rev));
}
