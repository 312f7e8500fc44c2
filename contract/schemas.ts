/**
 * Request and response schemas of the HTTP API (R-META, R-API), with the types inferred from them.
 * The API validates every input against these before use; the SDK types its calls with them.
 *
 * Size limits (SPEC: "a field over its limit" is 413) carry `params: { tooLarge: true }` so the error
 * mapper can answer 413 PayloadTooLarge instead of 400 ValidationError.
 */
import { ALIAS_RE, FORMAT_RE } from './patterns.ts';
import { AssetType, Bump, CapPolicy, FilePath, Sha256, type GrantRequest, type VersionStatus } from './readSchemas.ts';
import * as z from './zod.ts';

export * from './readSchemas.ts';

export const TAG_RE = /^[A-Za-z0-9 _.:/=-]{1,32}$/;

const KIB = 1024;
const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
const jsonBytes = (v: unknown): number => utf8Bytes(JSON.stringify(v) ?? '');
const tooLarge = (what: string, limit: string) => ({ message: `${what} is over its limit of ${limit}`, params: { tooLarge: true } });

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
