/**
 * R-LOCK with the deploy option `objectLock`: publishing places an S3 legal hold on the version's blobs;
 * an admin's force-delete lifts it, but only from blobs no other published version holds.
 */
import { PutObjectLegalHoldCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../fixtures/service.ts';

const s3 = mockClient(S3Client);
let svc: Service;
const SHARED = 'a'.repeat(64);
const OWN = 'b'.repeat(64);

beforeAll(async () => {
  svc = await startService({ ARCA_OBJECT_LOCK: 'true' });
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
