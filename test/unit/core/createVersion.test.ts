/**
 * Version creation against a mocked DynamoDB, for what DynamoDB Local cannot produce on demand: each
 * TransactionCanceledException reason vector, and throttling.
 */
import '../../fixtures/unit-env.ts';
import {
  ProvisionedThroughputExceededException,
  ThrottlingException,
  TransactionCanceledException,
  type CancellationReason,
} from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createVersion } from '../../../functions/domain/createVersion.ts';
import { ArcaError } from '../../../functions/shared/errors.ts';

const ddb = mockClient(DynamoDBDocumentClient);
afterEach(() => ddb.reset());

const actor = { principal: 'tester', isAdmin: false, isPublisher: false };
const SHA = 'c'.repeat(64);
const request = (extra: Record<string, unknown> = {}) => ({ files: [{ path: 'm.onnx', size: 10, sha256: SHA }], ...extra });

const assetItem = (extra: Record<string, unknown> = {}) => ({
  name: 'team/model',
  type: 'model',
  tags: [],
  capPolicy: 'refuse',
  liveCount: 3,
  highestKey: '0000000000000001.0000000000000000.0000000000000000~',
  highestVersion: '1.0.0',
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'x',
  updatedAt: '2026-01-01T00:00:00.000Z',
  rev: 1,
  ...extra,
});

const loads = (asset = assetItem()) => ddb.on(BatchGetCommand).resolves({ Responses: { Assets: [asset], Blobs: [{ sha256: SHA, verifiedAt: 'x' }] } });

const cancelled = (...reasons: CancellationReason[]) =>
  new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: reasons });
const ccf = (item?: Record<string, unknown>): CancellationReason => ({
  Code: 'ConditionalCheckFailed',
  ...(item ? { Item: marshall(item, { removeUndefinedValues: true }) } : {}),
});
const none: CancellationReason = { Code: 'None' };

const putVersions = () => ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems?.[1]?.Put?.Item?.version);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof ArcaError) return `${err.status} ${err.code}`;
    throw err;
  }
}

describe('createVersion: transaction cancellation reasons', () => {
  it('commits with one read and one transaction: asset counter + highest, conditional put', async () => {
    loads();
    ddb.on(TransactWriteCommand).resolves({});
    const record = await createVersion('team/model', request(), actor);
    expect(record).toMatchObject({ version: '1.1.0', status: 'ready', files: [{ path: 'm.onnx', format: 'onnx', state: 'present' }] });
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(1);
    const [call] = ddb.commandCalls(TransactWriteCommand);
    const [assetUpdate, put] = call?.args[0].input.TransactItems ?? [];
    expect(assetUpdate?.Update).toMatchObject({
      Key: { name: 'team/model' },
      ConditionExpression: 'attribute_exists(#name) AND liveCount < :limit AND (attribute_not_exists(highestKey) OR highestKey < :hk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ExpressionAttributeValues: { ':delta': 1, ':limit': 30, ':hv': '1.1.0' },
    });
    expect(put?.Put).toMatchObject({ ConditionExpression: 'attribute_not_exists(vkey)', Item: { version: '1.1.0', liveAsset: 'team/model', stableAsset: 'team/model' } });
  });

  it.each([
    ['cap reached meanwhile (asset ALL_OLD shows the cap), refuse policy', [ccf(assetItem({ liveCount: 30 })), none], '409 VersionCapReached', 1],
    ['the explicit version exists (a tombstone stays)', [none, ccf()], '409 AlreadyExists', 1],
    ['the asset was deleted meanwhile', [ccf(), none], '404 NotFound', 1],
  ])('%s → %s', async (_what, reasons, expected, transactions) => {
    loads();
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(TransactWriteCommand).rejects(cancelled(...(reasons as CancellationReason[])));
    expect(await codeOf(createVersion('team/model', request({ version: '1.5.0' }), actor))).toBe(expected);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(transactions);
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(1);
  });

  it('a concurrent bump (highest moved, seen in ALL_OLD) retries above it without reading again', async () => {
    loads();
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled(ccf(assetItem({ highestVersion: '1.1.0', highestKey: '0000000000000001.0000000000000001.0000000000000000~', liveCount: 4 })), ccf()))
      .resolves({});
    const record = await createVersion('team/model', request(), actor);
    expect(record.version).toBe('1.2.0');
    expect(putVersions()).toEqual(['1.1.0', '1.2.0']);
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('a transaction conflict re-reads the asset and retries', async () => {
    loads();
    ddb.on(GetCommand).resolves({ Item: assetItem() });
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled({ Code: 'TransactionConflict' }, none)).resolves({});
    expect((await createVersion('team/model', request(), actor)).version).toBe('1.1.0');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('at the cap with evict-oldest: the oldest ready unaliased version is tombstoned in the same transaction', async () => {
    loads(assetItem({ liveCount: 30, capPolicy: 'evict-oldest' }));
    const version = (v: string, createdAt: string, extra: Record<string, unknown> = {}) => ({
      asset: 'team/model',
      vkey: `k-${v}`,
      version: v,
      status: 'ready',
      files: [],
      paramsHash: 'h',
      createdAt,
      createdBy: 'x',
      updatedAt: createdAt,
      rev: 1,
      ...extra,
    });
    ddb.on(QueryCommand).resolves({
      Items: [version('0.9.0', '2026-01-03T00:00:00Z'), version('0.8.0', '2026-01-01T00:00:00Z', { aliases: new Set(['prod']) }), version('0.7.0', '2026-01-02T00:00:00Z')],
    });
    ddb.on(TransactWriteCommand).resolves({});
    await createVersion('team/model', request(), actor);
    const items = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    // asset, new version, evicted version, and the audit entries of the creation and of the eviction (by `system`)
    expect(items).toHaveLength(5);
    expect(items.slice(3).map((i) => [i.Put?.Item?.action, i.Put?.Item?.actor])).toEqual(
      expect.arrayContaining([['version.create', actor.principal], ['version.delete', 'system']]),
    );
    expect(items[0]?.Update?.ConditionExpression).not.toContain('liveCount <');
    expect(items[0]?.Update?.ExpressionAttributeValues?.[':delta']).toBe(0);
    expect(items[2]?.Update).toMatchObject({ Key: { vkey: 'k-0.7.0' }, ConditionExpression: '#status = :ready AND attribute_not_exists(aliases)' });
  });

  it('at the cap with the refuse policy and nothing expired: 409 naming the count and the way out', async () => {
    loads(assetItem({ liveCount: 30 }));
    ddb.on(QueryCommand).resolves({ Items: [] });
    const err = await createVersion('team/model', request(), actor).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArcaError);
    expect((err as ArcaError).message).toMatch(/holds 30 live versions.*DELETE.*evict-oldest/);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});

describe('throttling → 429 Throttled', () => {
  it.each([
    ['ProvisionedThroughputExceeded on the read', () => ddb.on(BatchGetCommand).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }))],
    ['ThrottlingException on the read', () => ddb.on(BatchGetCommand).rejects(new ThrottlingException({ message: 'slow down', $metadata: {} }))],
    [
      'throttled transaction',
      () => {
        loads();
        ddb.on(TransactWriteCommand).rejects(cancelled({ Code: 'ThrottlingError' }, { Code: 'ProvisionedThroughputExceeded' }));
      },
    ],
  ])('%s', async (_what, arrange) => {
    arrange();
    expect(await codeOf(createVersion('team/model', request(), actor))).toBe('429 Throttled');
    expect(ddb.commandCalls(TransactWriteCommand).length).toBeLessThanOrEqual(1);
  });
});
