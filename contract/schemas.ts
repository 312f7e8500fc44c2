/**
 * Request and response schemas of the HTTP API (R-META, R-API), with the types inferred from them.
 * The API validates every input against these before use; the SDK types its calls with them.
 *
 * Size limits (SPEC: "a field over its limit" is 413) carry `params: { tooLarge: true }` so the error
 * mapper can answer 413 PayloadTooLarge instead of 400 ValidationError.
 */
import * as z from './zod.ts';
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

export const Sha256 = z.string().check(z.regex(SHA256_RE, 'must be 64 lower-case hex characters'));
export const Description = z.string().check(z.refine((s) => utf8Bytes(s) <= 64 * KIB, tooLarge('description', '64 KiB')));
export const Tags = z.array(z.string().check(z.regex(TAG_RE, 'a tag is 1–32 letters, digits, spaces or _.:/=-'))).check(
  z.maxLength(50, 'at most 50 tags'),
  z.refine((t) => new Set(t).size === t.length, 'tags must be distinct'),
);
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
const refineFreeJson = (value: unknown, ctx: z.core.$RefinementCtx): void => {
  const problem = freeJsonProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `${problem.path.replace(/^\./, '') || 'value'}: ${problem.message}` });
};

/**
 * Free-form JSON checked on the raw input, before zod builds its own copy (where a `__proto__` key would
 * be lost to assignment instead of refused), and only then parsed as `inner`.
 */
const freeJson = <T extends z.ZodMiniType<unknown, unknown>>(inner: T, openapi: z.core.GlobalMeta) =>
  // The pipe starts from unknown, so the generated OpenAPI document is told the shape it ends in.
  z.pipe(z.unknown().check(z.superRefine(refineFreeJson)), inner).check(z.meta(openapi));

/** A free-form JSON object of at most 64 KiB serialized. */
export const FreeJsonObject = (what: string, maxKiB = 64) =>
  freeJson(z.record(z.string(), z.unknown()).check(z.refine((o) => jsonBytes(o) <= maxKiB * KIB, tooLarge(what, `${maxKiB} KiB serialized`))), {
    type: 'object',
    description: `free-form JSON, at most ${maxKiB} KiB serialized and ${MAX_JSON_DEPTH} levels deep`,
  });
export const Metrics = freeJson(
  z.record(z.string(), z.number()).check(z.refine((m) => Object.keys(m).length <= 200, 'at most 200 metrics')),
  { type: 'object', additionalProperties: { type: 'number' }, maxProperties: 200 },
);

/** A file's path inside a version: relative POSIX, ≤ 512 chars, no `.`/`..`/empty segment, no backslash or control character. */
export const FilePath = z.string().check(
  z.minLength(1),
  z.maxLength(512),
  z.refine(
    // eslint-disable-next-line no-control-regex
    (p) => !p.startsWith('/') && !/[\\\u0000-\u001f\u007f]/.test(p) && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..'),
    'a path is relative POSIX with no empty, "." or ".." segment, backslash or control character',
  ),
);

export const FileDeclaration = z.strictObject({
  path: FilePath,
  size: z.int().check(z.gte(0), z.lte(5 * 1024 ** 4)),
  sha256: Sha256,
  format: z.optional(z.string().check(z.regex(FORMAT_RE))),
  contentType: z.optional(z.string().check(z.maxLength(255))),
  /** SHA-256 of each part, in order; required above the multipart threshold. */
  parts: z.optional(z.array(Sha256).check(z.minLength(1), z.maxLength(10_000))),
});
export type FileDeclaration = z.infer<typeof FileDeclaration>;

export const VersionMetadata = z.strictObject({
  description: z.optional(Description),
  tags: z.optional(Tags),
  hyperparameters: z.optional(FreeJsonObject('hyperparameters')),
  config: z.optional(FreeJsonObject('config')),
  metrics: z.optional(Metrics),
});

/** Aliases only a publisher (or admin) moves or deletes; setting or changing the list needs publisher too. */
export const ProtectedAliases = z
  .array(z.string().check(z.regex(ALIAS_RE, 'an alias starts with a lower-case letter, then up to 62 lower-case letters, digits or -')))
  .check(
    z.maxLength(20),
    z.refine((list) => new Set(list).size === list.length, 'lists an alias twice'),
  );

export const CreateAssetRequest = z.strictObject({
  name: z.string(),
  type: AssetType,
  description: z.optional(Description),
  tags: z.optional(Tags),
  capPolicy: z.optional(CapPolicy),
  protectedAliases: z.optional(ProtectedAliases),
});
export type CreateAssetRequest = z.infer<typeof CreateAssetRequest>;

export const UpdateAssetRequest = z.strictObject({
  description: z.optional(Description),
  tags: z.optional(Tags),
  capPolicy: z.optional(CapPolicy),
  protectedAliases: z.optional(ProtectedAliases),
});
export type UpdateAssetRequest = z.infer<typeof UpdateAssetRequest>;

/** A version is named or bumped, not both. */
const versionOrBump = z.refine<{ version?: string; bump?: string }>((r) => !(r.version && r.bump), { message: 'give version or bump, not both' });

export const CreateVersionRequest = z
  .extend(VersionMetadata, {
    version: z.optional(z.string()),
    bump: z.optional(Bump),
    files: z.array(FileDeclaration).check(z.minLength(1), z.maxLength(1000)),
    records: z.optional(z.array(z.string()).check(z.maxLength(100))),
    params: z.optional(FreeJsonObject('params')),
  })
  .check(versionOrBump);
export type CreateVersionRequest = z.infer<typeof CreateVersionRequest>;

export const PutOutputRequest = z.strictObject({
  files: z.array(FileDeclaration).check(z.minLength(1), z.maxLength(1000)),
  ttlDays: z._default(z.int().check(z.gte(1), z.lte(90)), 7),
  metadata: z.optional(FreeJsonObject('metadata', 16)),
});
export type PutOutputRequest = z.infer<typeof PutOutputRequest>;

/** A version create without its files: they are the promoted output's. */
export const PromoteOutputRequest = z
  .extend(VersionMetadata, {
    asset: z.string(),
    version: z.optional(z.string()),
    bump: z.optional(Bump),
    records: z.optional(z.array(z.string()).check(z.maxLength(100))),
    params: z.optional(FreeJsonObject('params')),
  })
  .check(versionOrBump);
export type PromoteOutputRequest = z.infer<typeof PromoteOutputRequest>;

export const UpdateVersionRequest = VersionMetadata;
export type UpdateVersionRequest = z.infer<typeof UpdateVersionRequest>;

export const AddFilesRequest = z.strictObject({ files: z.array(FileDeclaration).check(z.minLength(1), z.maxLength(1000)) });
export type AddFilesRequest = z.infer<typeof AddFilesRequest>;

export const UploadPartsRequest = z.strictObject({ from: z.optional(z.int().check(z.gte(1), z.lte(10_000))) });
export type UploadPartsRequest = z.infer<typeof UploadPartsRequest>;

export const SetAliasRequest = z.strictObject({ version: z.string() });
export type SetAliasRequest = z.infer<typeof SetAliasRequest>;

export const ListQuery = z.object({
  // `?limit=` (empty) is no limit given, as an absent one.
  limit: z.pipe(
    z.transform((v) => (v === '' ? undefined : v)),
    z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 50),
  ),
  cursor: z.optional(z.string()),
});

export const ListAssetsQuery = z.extend(ListQuery, {
  // An asset name is at most 256 characters; a longer prefix matches nothing (and is over DynamoDB's key size).
  prefix: z.optional(z.string().check(z.maxLength(256))),
  type: z.optional(AssetType),
  tag: z.optional(z.string()),
  q: z.optional(z.string().check(z.maxLength(256))),
  sort: z._default(z.enum(['name', 'updated']), 'name'),
  order: z._default(z.enum(['asc', 'desc']), 'asc'),
});

const booleanString = z.pipe(
  z.enum(['true', 'false']),
  z.transform((s) => s === 'true'),
);

export const ListVersionsQuery = z.extend(ListQuery, {
  status: z.optional(VersionStatus),
  paramsHash: z.optional(Sha256),
  includeDeleted: z._default(booleanString, false),
});

export const LineageQuery = z.extend(ListQuery, { version: z.string() });

/** `DELETE …/versions/{version}/files?format=`: withdraw the files still waiting for bytes (of one format, or all). */
export const WithdrawFilesQuery = z.object({ format: z.optional(z.string().check(z.regex(FORMAT_RE))) });

export const DeleteQuery = z.object({
  force: z._default(booleanString, false),
  reason: z.optional(z.string().check(z.maxLength(1024))),
});

/**
 * A grant's principal, in one of three forms: an IAM principal ARN (IAM mode's `userArn`, e.g. an assumed
 * role's session ARN or a role ARN), `group:NAME` (a JWT group claim), or a JWT subject (what an identity
 * provider issues: no spaces, no control characters, neither of the other two forms).
 */
const IAM_ARN_RE = /^arn:aws[a-z-]*:(?:iam|sts)::\d{12}:[A-Za-z0-9+=,.@_/-]{1,512}$/;
const GROUP_RE = /^group:[A-Za-z0-9+=,.@_:/-]{1,128}$/;
const SUBJECT_RE = /^[A-Za-z0-9+=,.@_:|/-]{1,256}$/;
export const GrantPrincipal = z.string().check(
  z.refine(
    (p) => (p.startsWith('arn:') ? IAM_ARN_RE.test(p) : p.startsWith('group:') ? GROUP_RE.test(p) : SUBJECT_RE.test(p)),
    'must be an IAM principal ARN (arn:aws:iam::123456789012:role/NAME or an sts assumed-role ARN), group:NAME, or a JWT subject (1–256 of A-Z a-z 0-9 +=,.@_:|/-)',
  ),
);

/**
 * A grant's asset-name prefix: `''` (every name), or whole R-NAME segments followed by `/` and/or the start
 * of one more segment (`fraud/`, `fraud/sc`). Any other string could never match a name, so it is refused.
 */
export const GRANT_PREFIX_RE = /^(?:[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?\/){0,9}(?:[a-z0-9][a-z0-9._-]{0,63})?$/;
export const GrantPrefix = z.string().check(
  z.maxLength(256),
  z.regex(GRANT_PREFIX_RE, 'must be empty (every asset) or the start of an asset name: lower-case segments of a-z 0-9 ._- separated by /'),
  z.refine((p) => !p.includes('..'), 'must not contain ".."'),
);

export const Role = z.enum(ROLES as readonly [RoleName, ...RoleName[]]);

export const GrantRequest = z.strictObject({ principal: GrantPrincipal, prefix: GrantPrefix, role: Role });
export type GrantRequest = z.infer<typeof GrantRequest>;

export const ListGrantsQuery = z.extend(ListQuery, {
  principal: z.optional(GrantPrincipal),
  /** Only the grants whose prefix starts with this. */
  prefix: z.optional(z.string().check(z.maxLength(256))),
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
  actor: z.string().check(z.minLength(1)),
  action: z.enum(AUDIT_ACTIONS),
  /** Absent for changes outside any asset (hooks, grants). */
  asset: z.optional(z.string()),
  hook: z.optional(z.string()),
  version: z.optional(z.string()),
  alias: z.optional(z.string()),
  from: z.optional(z.string()),
  to: z.optional(z.string()),
  reason: z.optional(z.string()),
  grantee: z.optional(z.string()),
  prefix: z.optional(z.string()),
  role: z.optional(z.string()),
  requestId: z.optional(z.string()),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** An instant with any offset, normalized to UTC `…Z` so it compares with stored times as a string. */
const Instant = z.pipe(
  z.iso.datetime({ offset: true }),
  z.transform((s) => new Date(s).toISOString()),
);

export const AuditQuery = z.extend(ListQuery, {
  asset: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  actor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
  since: z.optional(Instant),
  until: z.optional(Instant),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AliasHistoryQuery = z.extend(ListQuery, { at: z.optional(Instant) });

export const ResolveQuery = z.object({ stage: z.optional(z.enum(['published'])) });

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
