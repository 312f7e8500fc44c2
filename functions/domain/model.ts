/**
 * The stored shape of assets, versions and aliases (contract/tables.ts), parsed on every read so a
 * malformed item fails loudly instead of flowing on as a cast.
 */
import * as z from '../../contract/zod.ts';
import { legacyBlobKey } from '../../contract/keys.ts';
import { AssetType, CapPolicy, VersionStatus } from '../../contract/readSchemas.ts';

export const StoredFile = z.object({
  path: z.string(),
  size: z.number(),
  sha256: z.string(),
  format: z.string(),
  contentType: z.optional(z.string()),
  /** The blob's bytes were verified for this file (all files of a ready version, new formats once committed). */
  verified: z.boolean(),
  /**
   * The S3 object: while unverified, this upload's own key (contract/keys.ts `uploadKey`); once verified, the
   * object whose bytes were verified, so resolve presigns it without reading the Blobs table. Absent on
   * entries stored before per-upload keys (`objectKeyOf`).
   */
  key: z.optional(z.string()),
  uploadId: z.optional(z.string()),
  partSize: z.optional(z.number()),
  /** The declared part digests, 32 bytes each, concatenated (hex would not fit 10,000 parts in an item). */
  parts: z.optional(z.instanceof(Uint8Array)),
});
export type StoredFile = z.infer<typeof StoredFile>;

/** The object a file entry names. */
export const objectKeyOf = (f: Pick<StoredFile, 'key' | 'sha256'>): string => f.key ?? legacyBlobKey(f.sha256);

const stringSet = z.pipe(
  z.transform((v) => (v instanceof Set ? [...(v as Set<string>)] : v)),
  z.array(z.string()),
);

export const VersionItem = z.object({
  asset: z.string(),
  vkey: z.string(),
  version: z.string(),
  status: VersionStatus,
  files: z.array(StoredFile),
  description: z.optional(z.string()),
  tags: z._default(z.array(z.string()), []),
  hyperparameters: z.optional(z.record(z.string(), z.unknown())),
  config: z.optional(z.record(z.string(), z.unknown())),
  metrics: z.optional(z.record(z.string(), z.number())),
  records: z._default(z.array(z.string()), []),
  params: z.optional(z.record(z.string(), z.unknown())),
  /** Absent when the version was declared without params. */
  paramsHash: z.optional(z.string()),
  aliases: z.optional(stringSet),
  liveAsset: z.optional(z.string()),
  stableAsset: z.optional(z.string()),
  publishedAsset: z.optional(z.string()),
  /** Epoch seconds after which a pending version counts as expired (honoured on read, not by DynamoDB TTL). */
  pendingExpiresAt: z.optional(z.number()),
  /** Files whose bytes are not verified yet (a new format added to a ready version waits for commit). */
  pendingFiles: z._default(z.number(), 0),
  createdAt: z.string(),
  createdBy: z.string(),
  updatedAt: z.string(),
  updatedBy: z.optional(z.string()),
  publishedAt: z.optional(z.string()),
  publishedBy: z.optional(z.string()),
  deletedAt: z.optional(z.string()),
  deletedBy: z.optional(z.string()),
  deleteReason: z.optional(z.string()),
  /** The run output the version was promoted from (lineage upstream). */
  source: z.optional(z.object({ flow: z.string(), run: z.string(), name: z.string() })),
  rev: z.number(),
  /**
   * Bumped with `rev` by every change of `files` (absent = 0). Writers of `files` condition on it rather than on
   * `rev`, so metadata edits do not make commits, new formats and withdrawals retry.
   */
  filesRev: z.optional(z.number()),
});
export type VersionItem = z.infer<typeof VersionItem>;

/** A run output (R-OUT): written once, verified by commit, deleted by DynamoDB TTL at `expiresAt`. */
export const OutputItem = z.object({
  runKey: z.string(),
  name: z.string(),
  flow: z.string(),
  run: z.string(),
  createdKey: z.string(),
  status: z.enum(['pending', 'ready']),
  files: z.array(StoredFile),
  ttlDays: z.number(),
  metadata: z.optional(z.record(z.string(), z.unknown())),
  /** SHA-256 of the canonical PUT body: a repeated PUT of the same request is not a conflict. */
  requestHash: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  /** Epoch seconds; DynamoDB's TTL attribute, and honoured on read because TTL deletes lazily. */
  expiresAt: z.number(),
});
export type OutputItem = z.infer<typeof OutputItem>;

export const outputExpired = (o: OutputItem, now = nowEpoch()): boolean => o.expiresAt <= now;

export const AssetItem = z.object({
  name: z.string(),
  type: AssetType,
  description: z.optional(z.string()),
  tags: z._default(z.array(z.string()), []),
  capPolicy: CapPolicy,
  protectedAliases: z._default(z.array(z.string()), []),
  liveCount: z.number(),
  highestKey: z.optional(z.string()),
  highestVersion: z.optional(z.string()),
  createdAt: z.string(),
  createdBy: z.string(),
  updatedAt: z.string(),
  updatedBy: z.optional(z.string()),
  rev: z.number(),
});
export type AssetItem = z.infer<typeof AssetItem>;

export const AliasItem = z.object({
  asset: z.string(),
  alias: z.string(),
  version: z.string(),
  updatedAt: z.string(),
  updatedBy: z.string(),
});
export type AliasItem = z.infer<typeof AliasItem>;

/** Who is acting, and with which role on the asset concerned. */
export interface Actor {
  principal: string;
  isAdmin: boolean;
  /** Publisher or above: may move protected aliases and change the list of them. */
  isPublisher: boolean;
  /** The request that acts, recorded in the audit; absent for background jobs. */
  requestId?: string;
}

export const nowIso = (): string => new Date().toISOString();
export const nowEpoch = (): number => Math.floor(Date.now() / 1000);

/** A pending version past its expiry is treated as deleted by every read. */
export const isExpired = (v: VersionItem, now = nowEpoch()): boolean =>
  v.status === 'pending' && v.pendingExpiresAt !== undefined && v.pendingExpiresAt <= now;

export const effectiveStatus = (v: VersionItem): VersionItem['status'] => (isExpired(v) ? 'deleted' : v.status);

export const isResolvable = (v: VersionItem): boolean => v.status === 'ready' || v.status === 'published';
