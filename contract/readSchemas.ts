/**
 * The schemas the read function parses, apart from the request bodies of contract/schemas.ts (which
 * re-exports these): query strings, grants and audit entries as stored, and the pieces bodies share. A zod
 * schema is built by calls esbuild cannot prove pure, so every schema of a module the read bundle imports is
 * in it and built at its cold start: the write routes' bodies stay in the other module.
 */
import { FILE_PATH_MAX, FORMAT_RE, isRelativePosixPath, SHA256_RE } from './patterns.ts';
import { ROLES, type Role as RoleName } from './routes.ts';
import * as z from './zod.ts';

export const AssetType = z.enum(['model', 'dataset', 'other']);
export const CapPolicy = z.enum(['refuse', 'evict-oldest']);
export const VersionStatus = z.enum(['pending', 'ready', 'published', 'deleted']);
export const Bump = z.enum(['major', 'minor', 'patch']);

export const Sha256 = z.string().check(z.regex(SHA256_RE, 'must be 64 lower-case hex characters'));
/** A file's path inside a version: relative POSIX, ≤ 512 chars, no `.`/`..`/empty segment, no backslash or control character. */
export const FilePath = z.string().check(
  z.minLength(1),
  z.maxLength(FILE_PATH_MAX),
  z.refine(isRelativePosixPath, 'a path is relative POSIX with no empty, "." or ".." segment, backslash or control character'),
);

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

export type VersionStatus = z.infer<typeof VersionStatus>;
export type AssetType = z.infer<typeof AssetType>;
export type CapPolicy = z.infer<typeof CapPolicy>;
