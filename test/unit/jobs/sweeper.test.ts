import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { AbortMultipartUploadCommand, S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { versionKey } from '../../../contract/keys.ts';
import type { DynamoLocal } from '../../fixtures/dynamo.ts';
import { BUCKET, getItem, putAsset, putVersion, sha, startJobsEnv } from './harness.ts';

const s3 = mockClient(S3Client);
let dynamo: DynamoLocal;
let doc: DynamoDBDocumentClient;
let sweep: typeof import('../../../functions/jobs/sweeper.ts').sweep;

beforeAll(async () => {
  ({ dynamo, doc } = await startJobsEnv());
  ({ sweep } = await import('../../../functions/jobs/sweeper.ts'));
});
afterAll(async () => {
  s3.restore();
  await dynamo?.stop();
});
afterEach(() => s3.reset());

const NOW = 2_000_000_000;
const version = (asset: string, v: string) => getItem(doc, dynamo.tables.versions, { asset, vkey: versionKey(v) });
const liveCount = async (asset: string) => (await getItem(doc, dynamo.tables.assets, { name: asset }))?.liveCount;

describe('sweeper (SPEC R-LIFE: pending versions expire)', () => {
  it('tombstones expired pending versions, frees their room, aborts their multipart uploads and leaves the rest alone', async () => {
    s3.on(AbortMultipartUploadCommand).resolves({});
    const t = dynamo.tables;
    await putAsset(doc, t, 'sweep/a', 4);
    await putVersion(doc, t, { asset: 'sweep/a', version: '1.0.0', status: 'ready', files: [{ sha256: sha(1) }] });
    await putVersion(doc, t, {
      asset: 'sweep/a',
      version: '1.1.0',
      status: 'pending',
      pendingExpiresAt: NOW - 1,
      files: [{ sha256: sha(2), uploadId: 'upload-2' }, { sha256: sha(3) }, { sha256: sha(4), verified: true }],
    });
    await putVersion(doc, t, { asset: 'sweep/a', version: '1.2.0', status: 'pending', pendingExpiresAt: NOW, files: [{ sha256: sha(5) }] });
    await putVersion(doc, t, { asset: 'sweep/a', version: '1.3.0', status: 'pending', pendingExpiresAt: NOW + 3600, files: [{ sha256: sha(6), uploadId: 'upload-6' }] });

    expect(await sweep(NOW)).toEqual({ expired: 2, skipped: 0, abortedUploads: 1 });

    expect(await version('sweep/a', '1.1.0')).toMatchObject({ status: 'deleted', deleteReason: 'pending version expired', deletedBy: 'arca:sweeper', rev: 2 });
    expect(await version('sweep/a', '1.1.0')).not.toHaveProperty('pendingExpiresAt');
    expect(await version('sweep/a', '1.2.0')).toMatchObject({ status: 'deleted' });
    expect(await version('sweep/a', '1.3.0')).toMatchObject({ status: 'pending', pendingExpiresAt: NOW + 3600, rev: 1 });
    expect(await version('sweep/a', '1.0.0')).toMatchObject({ status: 'ready', rev: 1 });
    expect(await liveCount('sweep/a')).toBe(2);

    const aborts = s3.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input);
    expect(aborts).toEqual([{ Bucket: BUCKET, Key: `blobs/sha256/${sha(2)}`, UploadId: 'upload-2' }]);
  });

  it('is idempotent: a second run finds nothing and the live count stays', async () => {
    expect(await sweep(NOW)).toEqual({ expired: 0, skipped: 0, abortedUploads: 0 });
    expect(await liveCount('sweep/a')).toBe(2);
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
  });

  it('a version that expires later is swept by the run after its expiry', async () => {
    s3.on(AbortMultipartUploadCommand).resolves({});
    expect(await sweep(NOW + 3600)).toEqual({ expired: 1, skipped: 0, abortedUploads: 1 });
    expect(await liveCount('sweep/a')).toBe(1);
  });

  it('an upload S3 no longer knows does not stop the sweep', async () => {
    const t = dynamo.tables;
    await putAsset(doc, t, 'sweep/b', 1);
    await putVersion(doc, t, { asset: 'sweep/b', version: '1.0.0', status: 'pending', pendingExpiresAt: NOW - 10, files: [{ sha256: sha(7), uploadId: 'gone' }] });
    const { NoSuchUpload } = await import('@aws-sdk/client-s3');
    s3.on(AbortMultipartUploadCommand).rejects(new NoSuchUpload({ message: 'gone', $metadata: { httpStatusCode: 404 } }));
    expect(await sweep(NOW)).toEqual({ expired: 1, skipped: 0, abortedUploads: 1 });
    expect(await liveCount('sweep/b')).toBe(0);
  });
});
