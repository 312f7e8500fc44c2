/**
 * Request and response schemas of the HTTP API (SPEC §1.7, §3), with the types inferred from them.
 * The API validates every input against these before use; the SDK types its calls with them.
 *
 * Size limits (SPEC: "a field over its limit" is 413) carry `params: { tooLarge: true }` so the error
 * mapper can answer 413 PayloadTooLarge instead of 400 ValidationError.
 */
import { z } from 'zod';

const KIB = 1024;
const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
const jsonBytes = (v: unknown): number => utf8Bytes(JSON.stringify(v) ?? '');
const tooLarge = (what: string, limit: string) => ({ message: `${what} is over its limit of ${limit}`, params: { tooLarge: true } });

export const SEGMENT_RE = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
export const ALIAS_RE = /^[a-z][a-z0-9-]{0,62}$/;
export const TAG_RE = /^[A-Za-z0-9 _.:/=-]{1,32}$/;
export const FORMAT_RE = /^[a-z0-9][a-z0-9._-]{0,15}$/;
export const SHA256_RE = /^[0-9a-f]{64}$/;

export const AssetType = z.enum(['model', 'dataset', 'other']);
export const CapPolicy = z.enum(['refuse', 'evict-oldest']);
export const VersionStatus = z.enum(['pending', 'ready', 'published', 'deleted']);
export const Bump = z.enum(['major', 'minor', 'patch']);

export const Sha256 = z.string().regex(SHA256_RE, 'must be 64 lower-case hex characters');
export const Description = z.string().refine((s) => utf8Bytes(s) <= 64 * KIB, tooLarge('description', '64 KiB'));
export const Tags = z
  .array(z.string().regex(TAG_RE, 'a tag is 1–32 letters, digits, spaces or _.:/=-'))
  .max(50, 'at most 50 tags')
  .refine((t) => new Set(t).size === t.length, 'tags must be distinct');
const jsonObject = (what: string) =>
  z.record(z.string(), z.unknown()).refine((o) => jsonBytes(o) <= 64 * KIB, tooLarge(what, '64 KiB serialized'));
export const Metrics = z
  .record(z.string(), z.number().refine(Number.isFinite, 'metrics are finite numbers'))
  .refine((m) => Object.keys(m).length <= 200, 'at most 200 metrics');

/** A file's path inside a version: relative POSIX, ≤ 512 chars, no `.`/`..`/empty segment, no backslash or control character. */
export const FilePath = z
  .string()
  .min(1)
  .max(512)
  .refine(
    // eslint-disable-next-line no-control-regex
    (p) => !p.startsWith('/') && !/[\\\u0000-\u001f\u007f]/.test(p) && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..'),
    'a path is relative POSIX with no empty, "." or ".." segment, backslash or control character',
  );

export const FileDeclaration = z.strictObject({
  path: FilePath,
  size: z.number().int().min(0).max(5 * 1024 ** 4),
  sha256: Sha256,
  format: z.string().regex(FORMAT_RE).optional(),
  contentType: z.string().max(255).optional(),
  /** SHA-256 of each part, in order; required above the multipart threshold. */
  parts: z.array(Sha256).min(1).max(10_000).optional(),
});
export type FileDeclaration = z.infer<typeof FileDeclaration>;

export const VersionMetadata = z.strictObject({
  description: Description.optional(),
  tags: Tags.optional(),
  hyperparameters: jsonObject('hyperparameters').optional(),
  config: jsonObject('config').optional(),
  metrics: Metrics.optional(),
});

export const CreateAssetRequest = z.strictObject({
  name: z.string(),
  type: AssetType,
  description: Description.optional(),
  tags: Tags.optional(),
  capPolicy: CapPolicy.optional(),
});
export type CreateAssetRequest = z.infer<typeof CreateAssetRequest>;

export const UpdateAssetRequest = z.strictObject({
  description: Description.optional(),
  tags: Tags.optional(),
  capPolicy: CapPolicy.optional(),
});
export type UpdateAssetRequest = z.infer<typeof UpdateAssetRequest>;

export const CreateVersionRequest = VersionMetadata.extend({
  version: z.string().optional(),
  bump: Bump.optional(),
  files: z.array(FileDeclaration).min(1).max(1000),
  records: z.array(z.string()).max(100).optional(),
  params: jsonObject('params').optional(),
}).refine((r) => !(r.version && r.bump), { message: 'give version or bump, not both' });
export type CreateVersionRequest = z.infer<typeof CreateVersionRequest>;

export const UpdateVersionRequest = VersionMetadata;
export type UpdateVersionRequest = z.infer<typeof UpdateVersionRequest>;

export const AddFilesRequest = z.strictObject({ files: z.array(FileDeclaration).min(1).max(1000) });
export type AddFilesRequest = z.infer<typeof AddFilesRequest>;

export const UploadPartsRequest = z.strictObject({ from: z.number().int().min(1).max(10_000).optional() });
export type UploadPartsRequest = z.infer<typeof UploadPartsRequest>;

export const SetAliasRequest = z.strictObject({ version: z.string() });
export type SetAliasRequest = z.infer<typeof SetAliasRequest>;

export const ListQuery = z.object({
  // `?limit=` (empty) is no limit given, as an absent one.
  limit: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(1).max(100).default(50)),
  cursor: z.string().optional(),
});

export const ListAssetsQuery = ListQuery.extend({
  // An asset name is at most 256 characters; a longer prefix matches nothing (and is over DynamoDB's key size).
  prefix: z.string().max(256).optional(),
  type: AssetType.optional(),
  tag: z.string().optional(),
  q: z.string().max(256).optional(),
  sort: z.enum(['name', 'updated']).default('name'),
  order: z.enum(['asc', 'desc']).default('asc'),
});

const booleanString = z.enum(['true', 'false']).transform((s) => s === 'true');

export const ListVersionsQuery = ListQuery.extend({
  status: VersionStatus.optional(),
  paramsHash: Sha256.optional(),
  includeDeleted: booleanString.default(false),
});

export const DeleteQuery = z.object({
  force: booleanString.default(false),
  reason: z.string().max(1024).optional(),
});

export const AUDIT_ACTIONS = [
  'asset.create',
  'asset.edit',
  'asset.delete',
  'version.create',
  'version.edit',
  'version.publish',
  'version.delete',
  'alias.move',
  'alias.delete',
  'hook.create',
  'hook.delete',
  'grant.put',
  'grant.delete',
  'output.promote',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One audit entry as stored and listed (index keys stripped): `GET /v1/audit` and alias history. */
export const AuditEntry = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string().min(1),
  action: z.enum(AUDIT_ACTIONS),
  /** Absent for changes outside any asset (hooks, grants). */
  asset: z.string().optional(),
  hook: z.string().optional(),
  version: z.string().optional(),
  alias: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  reason: z.string().optional(),
  requestId: z.string().optional(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** An instant with any offset, normalized to UTC `…Z` so it compares with stored times as a string. */
const Instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s).toISOString());

export const AuditQuery = ListQuery.extend({
  asset: z.string().min(1).max(256).optional(),
  actor: z.string().min(1).max(2048).optional(),
  since: Instant.optional(),
  until: Instant.optional(),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AliasHistoryQuery = ListQuery.extend({ at: Instant.optional() });

export const ResolveQuery = z.object({ stage: z.enum(['published']).optional() });

// ---- responses ----

export interface PresignedRequest {
  method: 'PUT';
  url: string;
  headers: Record<string, string>;
}

export interface PartUrl {
  partNumber: number;
  url: string;
  headers: Record<string, string>;
}

export interface MultipartInstructions {
  uploadId: string;
  partSize: number;
  parts: PartUrl[];
  nextPart?: number;
}

export interface FileRecord {
  path: string;
  size: number;
  sha256: string;
  format: string;
  contentType?: string;
  /** Present only in the responses that hand out uploads (create version, add files). */
  state?: 'present';
  /** Present only in a commit's 202 answer: the bytes arrived and the service is still hashing them. */
  verification?: 'in-progress';
  upload?: PresignedRequest;
  multipart?: MultipartInstructions;
}

export type VersionStatus = z.infer<typeof VersionStatus>;
export type AssetType = z.infer<typeof AssetType>;
export type CapPolicy = z.infer<typeof CapPolicy>;

export interface VersionRecord {
  asset: string;
  version: string;
  status: VersionStatus;
  files: FileRecord[];
  formats: string[];
  size: number;
  description?: string;
  tags: string[];
  hyperparameters?: Record<string, unknown>;
  config?: Record<string, unknown>;
  metrics?: Record<string, number>;
  records: string[];
  params?: Record<string, unknown>;
  paramsHash: string;
  aliases: string[];
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  publishedAt?: string;
  deletedAt?: string;
  deletedBy?: string;
  deleteReason?: string;
  /** When a pending version expires. */
  expiresAt?: string;
  etag: string;
}

export interface AssetRecord {
  name: string;
  type: AssetType;
  description?: string;
  tags: string[];
  capPolicy: CapPolicy;
  liveVersions: number;
  latest?: string;
  aliases: { alias: string; version: string }[];
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  etag: string;
}

export interface AliasRecord {
  alias: string;
  version: string;
  updatedAt: string;
  updatedBy: string;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface ResolvedFile {
  path: string;
  size: number;
  sha256: string;
  format: string;
  url: string;
}

export interface ResolveResult {
  asset: string;
  version: string;
  status: VersionStatus;
  aliases: string[];
  files: ResolvedFile[];
}
