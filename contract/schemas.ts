/**
 * Request and response schemas of the HTTP API (R-META, R-API), with the types inferred from them.
 * The API validates every input against these before use; the SDK types its calls with them.
 *
 * Size limits (SPEC: "a field over its limit" is 413) carry `params: { tooLarge: true }` so the error
 * mapper can answer 413 PayloadTooLarge instead of 400 ValidationError.
 */
import * as z from 'zod';
import { ROLES, type Role as RoleName } from './routes.ts';

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
/**
 * Free-form JSON (hyperparameters, config, params, metrics, and any later metadata field) is stored as a
 * DynamoDB document, so the one layer every such field goes through refuses what DynamoDB or the runtime
 * cannot take, as a 400 rather than a 500:
 * - nesting deeper than MAX_JSON_DEPTH (DynamoDB allows 32 levels in an item; the field itself is one);
 * - numbers DynamoDB cannot store: not finite, or a magnitude outside 1e-130 .. 9.99e125;
 * - keys that name Object.prototype machinery (`__proto__`, `constructor`, `prototype`), which change
 *   what plain-object code downstream sees.
 * The walk is iterative, so a hostile depth cannot overflow the stack before it is refused, and it runs
 * before anything serializes the value.
 */
export const MAX_JSON_DEPTH = 30;
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const DYNAMO_MIN = 1e-130;
const DYNAMO_MAX = 9.99e125;

export const isDynamoNumber = (n: number): boolean =>
  Number.isFinite(n) && (n === 0 || (Math.abs(n) >= DYNAMO_MIN && Math.abs(n) <= DYNAMO_MAX));

/** The first reason `value` cannot be stored as a free-form DynamoDB document, with where it is; undefined when it can. */
export function freeJsonProblem(value: unknown): { path: string; message: string } | undefined {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: '', depth: 1 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'number') {
      if (!isDynamoNumber(v)) return { path, message: 'a number must be finite, 0 or of magnitude 1e-130 .. 9.99e125' };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) return { path, message: `nested deeper than ${MAX_JSON_DEPTH} levels` };
    for (const [k, child] of Object.entries(v)) {
      const at = Array.isArray(v) ? `${path}[${k}]` : `${path}.${k}`;
      if (!Array.isArray(v) && RESERVED_KEYS.has(k)) return { path: at, message: `the key "${k}" is reserved` };
      stack.push({ v: child, path: at, depth: depth + 1 });
    }
  }
  return undefined;
}

/** The check of `freeJsonProblem` as a zod refinement: an issue at the offending path. */
const refineFreeJson = (value: unknown, ctx: z.RefinementCtx): void => {
  const problem = freeJsonProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `${problem.path.replace(/^\./, '') || 'value'}: ${problem.message}` });
};

/**
 * Free-form JSON checked on the raw input, before zod builds its own copy (where a `__proto__` key would
 * be lost to assignment instead of refused), and only then parsed as `inner`.
 */
const freeJson = <T extends z.ZodType>(inner: T, openapi: Record<string, unknown>) =>
  // The pipe starts from unknown, so the generated OpenAPI document is told the shape it ends in.
  z.unknown().superRefine(refineFreeJson).pipe(inner).meta(openapi);

/** A free-form JSON object of at most 64 KiB serialized. */
export const FreeJsonObject = (what: string, maxKiB = 64) =>
  freeJson(z.record(z.string(), z.unknown()).refine((o) => jsonBytes(o) <= maxKiB * KIB, tooLarge(what, `${maxKiB} KiB serialized`)), {
    type: 'object',
    description: `free-form JSON, at most ${maxKiB} KiB serialized and ${MAX_JSON_DEPTH} levels deep`,
  });
export const Metrics = freeJson(
  z.record(z.string(), z.number()).refine((m) => Object.keys(m).length <= 200, 'at most 200 metrics'),
  { type: 'object', additionalProperties: { type: 'number' }, maxProperties: 200 },
);

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
  hyperparameters: FreeJsonObject('hyperparameters').optional(),
  config: FreeJsonObject('config').optional(),
  metrics: Metrics.optional(),
});

/** Aliases only a publisher (or admin) moves or deletes; setting or changing the list needs publisher too. */
export const ProtectedAliases = z
  .array(z.string().regex(ALIAS_RE, 'an alias starts with a lower-case letter, then up to 62 lower-case letters, digits or -'))
  .max(20)
  .refine((list) => new Set(list).size === list.length, 'lists an alias twice');

export const CreateAssetRequest = z.strictObject({
  name: z.string(),
  type: AssetType,
  description: Description.optional(),
  tags: Tags.optional(),
  capPolicy: CapPolicy.optional(),
  protectedAliases: ProtectedAliases.optional(),
});
export type CreateAssetRequest = z.infer<typeof CreateAssetRequest>;

export const UpdateAssetRequest = z.strictObject({
  description: Description.optional(),
  tags: Tags.optional(),
  capPolicy: CapPolicy.optional(),
  protectedAliases: ProtectedAliases.optional(),
});
export type UpdateAssetRequest = z.infer<typeof UpdateAssetRequest>;

export const CreateVersionRequest = VersionMetadata.extend({
  version: z.string().optional(),
  bump: Bump.optional(),
  files: z.array(FileDeclaration).min(1).max(1000),
  records: z.array(z.string()).max(100).optional(),
  params: FreeJsonObject('params').optional(),
}).refine((r) => !(r.version && r.bump), { message: 'give version or bump, not both' });
export type CreateVersionRequest = z.infer<typeof CreateVersionRequest>;

export const PutOutputRequest = z.strictObject({
  files: z.array(FileDeclaration).min(1).max(1000),
  ttlDays: z.number().int().min(1).max(90).default(7),
  metadata: FreeJsonObject('metadata', 16).optional(),
});
export type PutOutputRequest = z.infer<typeof PutOutputRequest>;

/** A version create without its files: they are the promoted output's. */
export const PromoteOutputRequest = VersionMetadata.extend({
  asset: z.string(),
  version: z.string().optional(),
  bump: Bump.optional(),
  records: z.array(z.string()).max(100).optional(),
  params: FreeJsonObject('params').optional(),
}).refine((r) => !(r.version && r.bump), { message: 'give version or bump, not both' });
export type PromoteOutputRequest = z.infer<typeof PromoteOutputRequest>;

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

export const LineageQuery = ListQuery.extend({ version: z.string() });

/** `DELETE …/versions/{version}/files?format=`: withdraw the files still waiting for bytes (of one format, or all). */
export const WithdrawFilesQuery = z.object({ format: z.string().regex(FORMAT_RE).optional() });

export const DeleteQuery = z.object({
  force: booleanString.default(false),
  reason: z.string().max(1024).optional(),
});

/**
 * A grant's principal, in one of three forms: an IAM principal ARN (IAM mode's `userArn`, e.g. an assumed
 * role's session ARN or a role ARN), `group:NAME` (a JWT group claim), or a JWT subject (what an identity
 * provider issues: no spaces, no control characters, neither of the other two forms).
 */
const IAM_ARN_RE = /^arn:aws[a-z-]*:(?:iam|sts)::\d{12}:[A-Za-z0-9+=,.@_/-]{1,512}$/;
const GROUP_RE = /^group:[A-Za-z0-9+=,.@_:/-]{1,128}$/;
const SUBJECT_RE = /^[A-Za-z0-9+=,.@_:|/-]{1,256}$/;
export const GrantPrincipal = z
  .string()
  .refine(
    (p) => (p.startsWith('arn:') ? IAM_ARN_RE.test(p) : p.startsWith('group:') ? GROUP_RE.test(p) : SUBJECT_RE.test(p)),
    'must be an IAM principal ARN (arn:aws:iam::123456789012:role/NAME or an sts assumed-role ARN), group:NAME, or a JWT subject (1–256 of A-Z a-z 0-9 +=,.@_:|/-)',
  );

/**
 * A grant's asset-name prefix: `''` (every name), or whole R-NAME segments followed by `/` and/or the start
 * of one more segment (`fraud/`, `fraud/sc`). Any other string could never match a name, so it is refused.
 */
export const GRANT_PREFIX_RE = /^(?:[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?\/){0,9}(?:[a-z0-9][a-z0-9._-]{0,63})?$/;
export const GrantPrefix = z
  .string()
  .max(256)
  .regex(GRANT_PREFIX_RE, 'must be empty (every asset) or the start of an asset name: lower-case segments of a-z 0-9 ._- separated by /')
  .refine((p) => !p.includes('..'), 'must not contain ".."');

export const Role = z.enum(ROLES as readonly [RoleName, ...RoleName[]]);

export const GrantRequest = z.strictObject({ principal: GrantPrincipal, prefix: GrantPrefix, role: Role });
export type GrantRequest = z.infer<typeof GrantRequest>;

export const ListGrantsQuery = ListQuery.extend({
  principal: GrantPrincipal.optional(),
  /** Only the grants whose prefix starts with this. */
  prefix: z.string().max(256).optional(),
});

/** `DELETE /v1/grants?principal=&prefix=`: `prefix` is required, and `prefix=` (empty) names the every-name grant. */
export const DeleteGrantQuery = z.object({ principal: GrantPrincipal, prefix: GrantPrefix });
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
  grantee: z.string().optional(),
  prefix: z.string().optional(),
  role: z.string().optional(),
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
  /** Null when the version was declared without params. */
  paramsHash: string | null;
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
  /** The run output it was promoted from. */
  source?: OutputSource;
  etag: string;
}

/** The run output a version was promoted from. */
export interface OutputSource {
  flow: string;
  run: string;
  name: string;
}

export interface OutputRecord {
  flow: string;
  run: string;
  name: string;
  status: 'pending' | 'ready';
  /** With upload instructions (PUT), download URLs (GET), or neither (listings). */
  files: (FileRecord & { url?: string })[];
  size: number;
  ttlDays: number;
  metadata?: Record<string, unknown>;
  createdAt: string;
  createdBy: string;
  expiresAt: string;
}

export interface VersionRef {
  asset: string;
  version: string;
}

/** A version's lineage: what it records (and the run output it came from), and the versions recording it. */
export interface LineageRecord extends VersionRef {
  status: VersionStatus;
  upstream: { records: VersionRef[]; source?: OutputSource };
  downstream: Page<VersionRef>;
}

export interface AssetRecord {
  name: string;
  type: AssetType;
  description?: string;
  tags: string[];
  capPolicy: CapPolicy;
  protectedAliases: string[];
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

/** A grant from the grants table, as `GET /v1/grants` lists it. */
export interface GrantRecord extends GrantRequest {
  grantedBy: string;
  grantedAt: string;
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
