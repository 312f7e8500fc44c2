/**
 * What each function may touch, declared once. `grantAccess` turns a declaration into IAM grants, so a
 * function's permissions are read in one place. Names are not permissions: every function is told every
 * table's name and the bucket (functions/shared/env.ts requires them at cold start), and IAM decides what
 * it may do with them.
 */
import type { RouteGroup } from '../contract/routes.ts';
import type { TableName } from '../contract/tables.ts';
import { ENV } from '../contract/env.ts';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Object actions on `blobs/*`, by intent:
 * - `get`: read and head objects, and presign downloads (a presigned URL carries the signer's rights);
 * - `put`: presign uploads, single and multipart, and complete multipart uploads (all are `s3:PutObject` in IAM);
 * - `abort`: list and abort unfinished multipart uploads (the sweeper);
 * - `list`: list the blob keys (the garbage collector);
 * - `delete`: delete objects — also allowed by the bucket policy for the GC role alone;
 * - `legalHold`: place and lift legal holds (`objectLock` deployments).
 */
export type BlobAccess = 'get' | 'put' | 'abort' | 'list' | 'delete' | 'legalHold';

/**
 * `append`: read, and PutItem only. The audit log is append-only, so its table takes no other write mode:
 * the type refuses `readwrite` on it, and test/infra asserts no role holds UpdateItem or DeleteItem there.
 */
export type TableAccess = 'read' | 'readwrite' | 'append';

export interface FunctionAccess {
  /** Data-plane access per table; a table not listed is not granted at all. */
  tables: Partial<Record<Exclude<TableName, 'audit'>, 'read' | 'readwrite'>> & { audit?: 'read' | 'append' };
  /** Object actions on `blobs/*`. */
  blobs?: readonly BlobAccess[];
  /** Whether the function puts events on the registry's bus. */
  putEvents?: boolean;
}

/** The access of each API route group (contract/routes.ts). The read group can write nothing. */
export const GROUP_ACCESS: Record<RouteGroup, FunctionAccess> = {
  read: {
    tables: { assets: 'read', versions: 'read', aliases: 'read', blobs: 'read', hooks: 'read', deliveries: 'read', outputs: 'read', lineage: 'read', grants: 'read', audit: 'read' },
    blobs: ['get'],
  },
  write: {
    tables: {
      assets: 'readwrite',
      versions: 'readwrite',
      aliases: 'readwrite',
      blobs: 'readwrite',
      idempotency: 'readwrite',
      hooks: 'readwrite',
      deliveries: 'read',
      outputs: 'readwrite',
      lineage: 'readwrite',
      grants: 'readwrite',
      audit: 'append',
    },
    blobs: ['get', 'put', 'legalHold'],
  },
};

/** The access of the background jobs. */
export const JOB_ACCESS = {
  /**
   * S3 ObjectCreated → verify the blob, flip waiting versions to `ready`. It runs the same finalization as
   * the commit route, which also completes (or aborts) the version's other multipart uploads: hence `put`.
   */
  finalize: {
    tables: { assets: 'readwrite', versions: 'readwrite', blobs: 'readwrite', outputs: 'readwrite' },
    blobs: ['get', 'put'],
  },
  /** Expire pending versions past their TTL (each recorded in the audit) and abort their uploads. */
  sweeper: {
    tables: { assets: 'readwrite', versions: 'readwrite', audit: 'append' },
    blobs: ['abort'],
  },
  /** Delete blobs that nothing live references, after a grace period; with objectLock, lift their legal holds first. */
  gc: {
    tables: { versions: 'read', outputs: 'read', blobs: 'readwrite' },
    blobs: ['list', 'delete', 'legalHold'],
  },
} as const satisfies Record<string, FunctionAccess>;

/** The S3 key prefix every blob lives under (contract/keys.ts `blobKey`). */
export const BLOB_PREFIX = 'blobs/';

// Explicit actions rather than bucket.grantRead/grantPut: those grant `s3:GetObject*`/`s3:PutObject*`
// (ACLs, tagging, retention), wider than any function needs.
const OBJECT_ACTIONS: Record<BlobAccess, readonly string[]> = {
  get: ['s3:GetObject', 's3:GetObjectAttributes'],
  put: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
  abort: ['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
  list: [],
  delete: ['s3:DeleteObject'],
  legalHold: ['s3:PutObjectLegalHold', 's3:GetObjectLegalHold'],
};
// Bucket-level actions. `s3:ListBucket` is narrowed to the blob prefix; `s3:ListBucketMultipartUploads`
// supports no `s3:prefix` condition key, so it is granted on the bucket as is.
const BUCKET_ACTIONS: Partial<Record<BlobAccess, { action: string; prefixed: boolean }>> = {
  abort: { action: 's3:ListBucketMultipartUploads', prefixed: false },
  list: { action: 's3:ListBucket', prefixed: true },
};

export interface AccessTargets {
  tables: Record<TableName, ITable>;
  bucket: IBucket;
  bus: IEventBus;
  /** Without object lock there is no legal hold to place: `legalHold` is then dropped. */
  objectLock: boolean;
}

/** The env var that carries a table's name (`ENV.<table>Table`); fails when contract/env.ts lacks it. */
export function tableEnvName(table: TableName): string {
  const key = `${table}Table`;
  if (!(key in ENV)) throw new Error(`contract/env.ts has no ENV.${key}: add it so functions can find the ${table} table`);
  return ENV[key as keyof typeof ENV];
}

/** The object-level actions `access` grants on `blobs/*` (none when it only lists). */
export function objectActions(access: FunctionAccess, objectLock: boolean): string[] {
  const blobs = (access.blobs ?? []).filter((b) => b !== 'legalHold' || objectLock);
  return [...new Set(blobs.flatMap((b) => OBJECT_ACTIONS[b]))];
}

/** The environment that names every table and the bucket. */
export function resourceEnvironment(targets: Pick<AccessTargets, 'tables' | 'bucket'>): Record<string, string> {
  return {
    ...Object.fromEntries((Object.entries(targets.tables) as [TableName, ITable][]).map(([name, t]) => [tableEnvName(name), t.tableName])),
    [ENV.bucket]: targets.bucket.bucketName,
  };
}

/** Grants `access` to `grantee`. */
export function grantAccess(grantee: iam.IGrantable, access: FunctionAccess, targets: AccessTargets): void {
  for (const [name, mode] of Object.entries(access.tables) as [TableName, TableAccess][]) {
    const table = targets.tables[name];
    if (mode === 'readwrite') table.grantReadWriteData(grantee);
    else table.grantReadData(grantee);
    if (mode === 'append') table.grant(grantee, 'dynamodb:PutItem');
  }
  const blobs = (access.blobs ?? []).filter((b) => b !== 'legalHold' || targets.objectLock);
  if (blobs.length > 0) {
    const actions = objectActions(access, targets.objectLock);
    if (actions.length > 0) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions, resources: [targets.bucket.arnForObjects(`${BLOB_PREFIX}*`)] }),
      );
    }
    for (const b of blobs) {
      const bucketAction = BUCKET_ACTIONS[b];
      if (!bucketAction) continue;
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [bucketAction.action],
          resources: [targets.bucket.bucketArn],
          ...(bucketAction.prefixed ? { conditions: { StringLike: { 's3:prefix': [`${BLOB_PREFIX}*`] } } } : {}),
        }),
      );
    }
  }
  if (access.putEvents) targets.bus.grantPutEventsTo(grantee);
}
