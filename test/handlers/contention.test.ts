/**
 * Publish racing edits (issue 13): contention is not a rate limit. Publish retries with jittered backoff on
 * DynamoDB Local while other writers edit the same version, and never answers 429 for it.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../fixtures/service.ts';

mockClient(S3Client);
let svc: Service;
const VERIFIED = 'c'.repeat(64);
const WRITERS = 24;

beforeAll(async () => {
  svc = await startService();
  const { ddb } = await import('../../functions/adapters/dynamo.ts');
  const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
  await ddb.send(new PutCommand({ TableName: svc.dynamo.tables.blobs, Item: { sha256: VERIFIED, size: 1, verifiedAt: 'now' } }));
  await svc.call('POST', '/v1/assets', { body: { name: 'race/model', type: 'model' } });
});
afterAll(async () => svc?.stop());

describe('publish racing edits', () => {
  it(`publishes while ${WRITERS} writers keep editing the version, and the edits after it get 409 VersionPublished`, async () => {
    const created = await svc.call('POST', '/v1/assets/race/model/-/versions', { body: { version: '1.0.0', files: [{ path: 'm.bin', size: 1, sha256: VERIFIED }] } });
    expect(created.status).toBe(201);
    const path = '/v1/assets/race/model/-/versions/1.0.0';
    let published = false;
    const statuses: number[] = [];
    const editor = async (id: number) => {
      for (let n = 0; !published || n < 3; n++) {
        const res = await svc.call('PATCH', path, { body: { metrics: { [`w${id}`]: n } } });
        statuses.push(res.status);
        if (res.status === 409) return res;
      }
      return undefined;
    };
    const editors = Array.from({ length: WRITERS }, (_, i) => editor(i));
    // Let the edits start before publishing into them.
    await new Promise((r) => setTimeout(r, 50));
    const publish = await svc.call('POST', `${path}/publish`);
    published = true;
    expect(publish.status, JSON.stringify(publish.body)).toBe(200);
    expect(publish.body).toMatchObject({ status: 'published' });
    const ends = await Promise.all(editors);
    for (const end of ends) expect(end).toMatchObject({ status: 409, body: { error: { code: 'VersionPublished' } } });
    // The race was real: edits were committed while publish was under way.
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(publish.body.metrics).toBeDefined();
  });
});
