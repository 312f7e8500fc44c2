/**
 * R-LOCK with the deploy option `objectLock`: publishing places an S3 legal hold on the version's blobs;
 * an admin's force-delete lifts it, but only from blobs no other published version holds. Deleting the asset
 * leaves its holds; the garbage collector lifts each one before it deletes the blob.
 */
import { DeleteObjectsCommand, ListObjectsV2Command, NoSuchKey, PutObjectLegalHoldCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../fixtures/service.ts';

const s3 = mockClient(S3Client);
let svc: Service;
const SHARED = 'a'.repeat(64);
const OWN = 'b'.repeat(64);

beforeAll(async () => {
  svc = await startService({ ARCA_OBJECT_LOCK: 'true', ARCA_GC_GRACE_HOURS: '48' });
  const { ddb } = await import('../../functions/adapters/dynamo.ts');
  for (const sha256 of [SHARED, OWN]) await ddb.send(new PutCommand({ TableName: svc.dynamo.tables.blobs, Item: { sha256, size: 1, verifiedAt: 'now' } }));
  await svc.call('POST', '/v1/assets', { body: { name: 'lock/m', type: 'model' } });
  await svc.call('POST', '/v1/assets/lock/m/-/versions', { body: { version: '1.0.0', files: [{ path: 'a.bin', size: 1, sha256: SHARED }, { path: 'b.bin', size: 1, sha256: OWN }] } });
  await svc.call('POST', '/v1/assets/lock/m/-/versions', { body: { version: '2.0.0', files: [{ path: 'a.bin', size: 1, sha256: SHARED }] } });
});
afterAll(async () => svc?.stop());
afterEach(() => s3.reset());

const holds = () =>
  s3.commandCalls(PutObjectLegalHoldCommand).map((c) => `${c.args[0].input.Key?.slice(-1)}:${c.args[0].input.LegalHold?.Status}`);

async function holders(sha256: string): Promise<string[]> {
  const { ddb } = await import('../../functions/adapters/dynamo.ts');
  const out = await ddb.send(new GetCommand({ TableName: svc.dynamo.tables.blobs, Key: { sha256 } }));
  return [...((out.Item?.heldBy as Set<string> | undefined) ?? [])].sort();
}

describe('legal holds (objectLock)', () => {
  it('publishing holds every blob of the version', async () => {
    expect((await svc.call('POST', '/v1/assets/lock/m/-/versions/1.0.0/publish')).status).toBe(200);
    expect((await svc.call('POST', '/v1/assets/lock/m/-/versions/2.0.0/publish')).status).toBe(200);
    expect(holds()).toEqual(['a:ON', 'b:ON', 'a:ON']);
    expect(await holders(SHARED)).toEqual(['lock/m@1.0.0', 'lock/m@2.0.0']);
    expect(await holders(OWN)).toEqual(['lock/m@1.0.0']);
  });

  it('force-deleting a published version lifts only the holds nobody else needs', async () => {
    const res = await svc.call('DELETE', '/v1/assets/lock/m/-/versions/1.0.0?force=true&reason=retracted');
    expect(res).toMatchObject({ status: 200, body: { status: 'deleted', deleteReason: 'retracted' } });
    expect(holds()).toEqual(['b:OFF']);
    expect(await holders(SHARED)).toEqual(['lock/m@2.0.0']);
    expect(await holders(OWN)).toEqual([]);
  });
});

describe('legal holds after the asset is deleted (issue 10)', () => {
  const key = (sha256: string) => `blobs/sha256/${sha256}`;
  const old = new Date('2020-01-01T00:00:00Z');

  it('deleting the asset leaves its published blobs held; the GC lifts each hold just before deleting the blob', async () => {
    const res = await svc.call('DELETE', '/v1/assets/lock/m?force=true&reason=retired');
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(await holders(SHARED)).toEqual(['lock/m@2.0.0']); // nothing lifted it: the GC has to

    s3.on(ListObjectsV2Command).resolves({ Contents: [SHARED, OWN].map((sha) => ({ Key: key(sha), LastModified: old })), IsTruncated: false });
    s3.on(DeleteObjectsCommand).resolves({});
    const { collect } = await import('../../functions/jobs/gc.ts');
    const result = await collect({ graceHours: 48, settleMs: 10 });
    expect(result).toMatchObject({ candidates: 2, deleted: 2, failed: 0 });
    // In order: both holds off, then the delete.
    const calls = s3.calls().map((c) => c.args[0]).filter((cmd) => !(cmd instanceof ListObjectsV2Command));
    expect(calls.map((cmd) => cmd.constructor.name)).toEqual(['PutObjectLegalHoldCommand', 'PutObjectLegalHoldCommand', 'DeleteObjectsCommand']);
    expect(holds().sort()).toEqual(['a:OFF', 'b:OFF']);
    const deleted = s3.commandCalls(DeleteObjectsCommand).flatMap((c) => c.args[0].input.Delete!.Objects!.map((o) => o.Key));
    expect(deleted.sort()).toEqual([key(SHARED), key(OWN)].sort());
  });

  it('a blob whose hold S3 will not lift is kept (counted failed, tried again next run); one already gone is deleted', async () => {
    const { ddb } = await import('../../functions/adapters/dynamo.ts');
    const refused = 'c'.repeat(64);
    const gone = 'd'.repeat(64);
    for (const sha256 of [refused, gone]) await ddb.send(new PutCommand({ TableName: svc.dynamo.tables.blobs, Item: { sha256, size: 1, verifiedAt: 'now' } }));
    s3.on(ListObjectsV2Command).resolves({ Contents: [refused, gone].map((sha) => ({ Key: key(sha), LastModified: old })), IsTruncated: false });
    s3.on(PutObjectLegalHoldCommand, { Key: key(refused) }).rejects(new S3ServiceException({ name: 'AccessDenied', message: 'Access Denied', $fault: 'client', $metadata: { httpStatusCode: 403 } }));
    s3.on(PutObjectLegalHoldCommand, { Key: key(gone) }).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
    s3.on(DeleteObjectsCommand).resolves({});
    const { collect } = await import('../../functions/jobs/gc.ts');
    expect(await collect({ graceHours: 48, settleMs: 10 })).toMatchObject({ candidates: 2, deleted: 1, failed: 1 });
    const deleted = s3.commandCalls(DeleteObjectsCommand).flatMap((c) => c.args[0].input.Delete!.Objects!.map((o) => o.Key));
    expect(deleted).toEqual([key(gone)]);
  });
});
