/**
 * The runtime configuration, read once at module load. A missing or malformed variable fails the cold
 * start with the variable's name, never a request.
 */
import { DEFAULTS, ENV, type EnvName } from '../../contract/env.ts';
import { ROLES, type Role } from '../../contract/routes.ts';
import { EnvError, optional, required, type EnvSource } from './vars.ts';

export type AuthMode = 'token' | 'iam' | 'jwt';
export type VerifyMode = 's3-checksum' | 'hash';

export interface Grant {
  /** IAM principal ARN, JWT subject, or `group:NAME` for a JWT group. */
  principal: string;
  /** Asset-name prefix the role applies to; `''` covers every asset. */
  prefix: string;
  role: Role;
}

export interface Env {
  tables: { assets: string; versions: string; aliases: string; blobs: string; outputs: string; lineage: string; grants: string; audit: string };
  bucket: string;
  s3Endpoint?: string;
  s3PublicEndpoint?: string;
  dynamoEndpoint?: string;
  maxVersionsPerAsset: number;
  maxFormatsPerVersion: number;
  multipartThreshold: number;
  presignGetTtl: number;
  presignPutTtl: number;
  pendingTtlSeconds: number;
  verifyMode: VerifyMode;
  /** Largest file commit hashes within its request; larger ones are left to the ObjectCreated job. */
  inlineVerifyMaxBytes: number;
  /** Publishing places S3 legal holds on the version's blobs (R-LOCK `objectLock`). */
  objectLock: boolean;
  authMode: AuthMode;
  /** Deploy-time grants (props), merged with the grants table's at every authorization. */
  grants: Grant[];
  /** How long a function trusts its copy of the grants table (ms). */
  grantsCacheMs: number;
  localToken?: string;
}

const integer = (src: EnvSource, name: EnvName, fallback: number, min: number, max: number): number => {
  const raw = optional(src, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new EnvError(name, `must be an integer in ${min}–${max}, got "${raw}"`);
  return n;
};

const oneOf = <T extends string>(src: EnvSource, name: EnvName, allowed: readonly T[], fallback?: T): T => {
  const raw = optional(src, name) ?? fallback;
  if (raw === undefined) throw new EnvError(name, `is required: one of ${allowed.join(', ')}`);
  if (!(allowed as readonly string[]).includes(raw)) throw new EnvError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
};

function parseGrants(src: EnvSource): Grant[] {
  const raw = optional(src, ENV.grants);
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new EnvError(ENV.grants, 'is not valid JSON');
  }
  if (!Array.isArray(parsed)) throw new EnvError(ENV.grants, 'must be a JSON array of { principal, prefix, role }');
  return parsed.map((g: unknown, i) => {
    const { principal, prefix, role } = (g ?? {}) as Record<string, unknown>;
    if (typeof principal !== 'string' || principal === '' || typeof prefix !== 'string' || !ROLES.includes(role as Role)) {
      throw new EnvError(ENV.grants, `entry ${i} must be { principal: string, prefix: string, role: ${ROLES.join('|')} }`);
    }
    return { principal, prefix, role: role as Role };
  });
}

export function loadEnv(src: EnvSource = process.env): Env {
  const authMode = oneOf<AuthMode>(src, ENV.authMode, ['token', 'iam', 'jwt']);
  return {
    tables: {
      assets: required(ENV.assetsTable, src),
      versions: required(ENV.versionsTable, src),
      aliases: required(ENV.aliasesTable, src),
      blobs: required(ENV.blobsTable, src),
      outputs: required(ENV.outputsTable, src),
      lineage: required(ENV.lineageTable, src),
      grants: required(ENV.grantsTable, src),
      audit: required(ENV.auditTable, src),
    },
    bucket: required(ENV.bucket, src),
    s3Endpoint: optional(src, ENV.s3Endpoint),
    s3PublicEndpoint: optional(src, ENV.s3PublicEndpoint),
    dynamoEndpoint: optional(src, ENV.dynamoEndpoint),
    maxVersionsPerAsset: integer(src, ENV.maxVersionsPerAsset, DEFAULTS.maxVersionsPerAsset, 1, 1000),
    maxFormatsPerVersion: integer(src, ENV.maxFormatsPerVersion, DEFAULTS.maxFormatsPerVersion, 1, 100),
    multipartThreshold: integer(src, ENV.multipartThreshold, DEFAULTS.multipartThreshold, 5 * 1024 * 1024, 5 * 1024 ** 3),
    presignGetTtl: integer(src, ENV.presignGetTtl, DEFAULTS.presignGetTtlSeconds, 1, 7 * 24 * 3600),
    presignPutTtl: integer(src, ENV.presignPutTtl, DEFAULTS.presignPutTtlSeconds, 1, 7 * 24 * 3600),
    pendingTtlSeconds: integer(src, ENV.pendingTtlHours, DEFAULTS.pendingTtlHours, 1, 24 * 365) * 3600,
    verifyMode: oneOf<VerifyMode>(src, ENV.verifyMode, ['s3-checksum', 'hash'], 's3-checksum'),
    inlineVerifyMaxBytes: integer(src, ENV.inlineVerifyMaxBytes, DEFAULTS.inlineVerifyMaxBytes, 0, 5 * 1024 ** 4),
    objectLock: oneOf(src, ENV.objectLock, ['true', 'false'], 'false') === 'true',
    authMode,
    grants: parseGrants(src),
    grantsCacheMs: integer(src, ENV.grantsCacheSeconds, DEFAULTS.grantsCacheSeconds, 0, 3600) * 1000,
    localToken: authMode === 'token' ? required(ENV.localToken, src) : undefined,
  };
}

export const env: Env = loadEnv();
