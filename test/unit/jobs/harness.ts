/**
 * The background jobs against a real DynamoDB Local (their conditional writes are the point) with S3
 * mocked (aws-sdk-client-mock) so each S3 command can be asserted exactly. The env is written before the
 * service modules are imported, because they read it once at load.
 */
import { PutCommand, GetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { versionKey } from '../../../contract/keys.ts';
import { ENV } from '../../../contract/env.ts';
import { startDynamoLocal, type DynamoLocal } from '../../fixtures/dynamo.ts';

export const BUCKET = 'arca-jobs-test';

export async function startJobsEnv(extra: Record<string, string> = {}): Promise<{ dynamo: DynamoLocal; doc: DynamoDBDocumentClient }> {
  const dynamo = await startDynamoLocal();
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    [ENV.dynamoEndpoint]: dynamo.endpoint,
    [ENV.assetsTable]: dynamo.tables.assets,
    [ENV.versionsTable]: dynamo.tables.versions,
    [ENV.aliasesTable]: dynamo.tables.aliases,
    [ENV.blobsTable]: dynamo.tables.blobs,
    [ENV.auditTable]: dynamo.tables.audit,
    [ENV.outputsTable]: dynamo.tables.outputs,
    [ENV.lineageTable]: dynamo.tables.lineage,
    [ENV.grantsTable]: dynamo.tables.grants,
    [ENV.bucket]: BUCKET,
    [ENV.authMode]: 'iam',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    ...extra,
  });
  return { dynamo, doc: DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } }) };
}

export const sha = (n: number): string => n.toString(16).padStart(64, '0');

export async function putAsset(doc: DynamoDBDocumentClient, tables: DynamoLocal['tables'], name: string, liveCount: number): Promise<void> {
  const now = new Date().toISOString();
  await doc.send(
    new PutCommand({
      TableName: tables.assets,
      Item: { name, listPk: 'all', type: 'model', tags: [], capPolicy: 'refuse', liveCount, createdAt: now, createdBy: 'test', updatedAt: now, updatedKey: `${now}#${name}`, rev: 1 },
    }),
  );
}

export interface TestFile {
  sha256: string;
  /** The object the entry names (per-upload key); absent: a legacy entry (`blobs/sha256/<hex>`). */
  key?: string;
  verified?: boolean;
  uploadId?: string;
}

export async function putVersion(
  doc: DynamoDBDocumentClient,
  tables: DynamoLocal['tables'],
  v: { asset: string; version: string; status: 'pending' | 'ready' | 'published' | 'deleted'; files: TestFile[]; pendingExpiresAt?: number },
): Promise<void> {
  const now = new Date().toISOString();
  await doc.send(
    new PutCommand({
      TableName: tables.versions,
      Item: {
        asset: v.asset,
        vkey: versionKey(v.version),
        version: v.version,
        status: v.status,
        files: v.files.map((f, i) => ({
          path: `f${i}.bin`,
          size: 10,
          sha256: f.sha256,
          format: 'bin',
          verified: f.verified ?? v.status !== 'pending',
          ...(f.key ? { key: f.key } : {}),
          ...(f.uploadId ? { uploadId: f.uploadId, partSize: 64 * 1024 * 1024 } : {}),
        })),
        tags: [],
        records: [],
        paramsHash: sha(0),
        pendingFiles: 0,
        ...(v.status === 'ready' || v.status === 'published' ? { liveAsset: v.asset, stableAsset: v.asset } : {}),
        ...(v.pendingExpiresAt !== undefined ? { pendingExpiresAt: v.pendingExpiresAt } : {}),
        createdAt: now,
        createdBy: 'test',
        updatedAt: now,
        rev: 1,
      },
    }),
  );
}

export async function getItem(doc: DynamoDBDocumentClient, table: string, key: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
  return (await doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
}
