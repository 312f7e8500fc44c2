/** Stored items → the API's records (contract/schemas.ts response types). */
import type { AliasRecord, AssetRecord, FileRecord, OutputRecord, VersionRecord } from '../../contract/schemas.ts';
import { effectiveStatus, type AliasItem, type AssetItem, type OutputItem, type StoredFile, type VersionItem } from './model.ts';

export const etagOf = (rev: number): string => `"${rev}"`;

export const fileRecord = (f: StoredFile): FileRecord => ({
  path: f.path,
  size: f.size,
  sha256: f.sha256,
  format: f.format,
  ...(f.contentType ? { contentType: f.contentType } : {}),
});

/** A commit's file records: those the ObjectCreated job is still hashing are marked `verification: in-progress`. */
export function committedFiles(files: readonly StoredFile[], verifying: readonly StoredFile[]): FileRecord[] {
  const inProgress = new Set(verifying.map((f) => f.path));
  return files.map((f) => ({ ...fileRecord(f), ...(inProgress.has(f.path) ? { verification: 'in-progress' as const } : {}) }));
}

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
    source: v.source,
    etag: etagOf(v.rev),
  };
}

export const outputRecord = (o: OutputItem, files: OutputRecord['files'] = o.files.map(fileRecord)): OutputRecord => ({
  flow: o.flow,
  run: o.run,
  name: o.name,
  status: o.status,
  files,
  size: o.files.reduce((n, f) => n + f.size, 0),
  ttlDays: o.ttlDays,
  metadata: o.metadata,
  createdAt: o.createdAt,
  createdBy: o.createdBy,
  expiresAt: new Date(o.expiresAt * 1000).toISOString(),
});

export type AssetSummary = Omit<AssetRecord, 'latest' | 'aliases'>;

export const assetSummary = (a: AssetItem): AssetSummary => ({
  name: a.name,
  type: a.type,
  description: a.description,
  tags: a.tags,
  capPolicy: a.capPolicy,
  protectedAliases: a.protectedAliases,
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
