/**
 * Racing writers (issue 13): contention is not a rate limit. Every optimistic loop (publish, metadata edits,
 * new formats, delete, aliases, asset edits) retries with jittered backoff on DynamoDB Local while other
 * writers change the same item, and answers 409 with `details.reason: "contention"` when it still cannot
 * commit — never 429.
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
    // Publish into edits that are landing: wait for the first one (a fixed delay is not enough on a loaded machine).
    while (!statuses.includes(200)) await new Promise((r) => setTimeout(r, 5));
    const publish = await svc.call('POST', `${path}/publish`);
    published = true;
    expect(publish.status, JSON.stringify(publish.body)).toBe(200);
    expect(publish.body).toMatchObject({ status: 'published' });
    const ends = await Promise.all(editors);
    for (const end of ends) expect(end).toMatchObject({ status: 409, body: { error: { code: 'VersionPublished' } } });
    // The race was real: edits were committed while publish was under way, and publish answers what is stored
    // (with every edit that landed before it), not the version as it first read it.
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(publish.body.metrics).toBeDefined();
    expect(publish.body).toEqual((await svc.call('GET', path)).body);
  });
});

/** Every answer of a race: done, or a 409 that says it lost to contention (any other answer fails the test). */
function expectNoThrottle(results: { status: number; body: { error?: { code: string; details?: { reason?: string } } } }[], code: string): void {
  const unexpected = results.filter((r) => r.status !== 200 && !(r.status === 409 && r.body.error?.code === code && r.body.error.details?.reason === 'contention'));
  expect(unexpected.map((r) => [r.status, r.body.error?.code]), 'answers other than 200 or 409 contention').toEqual([]);
  expect(results.filter((r) => r.status === 200).length).toBeGreaterThan(0);
}

const RACERS = 32;
const all = <T>(n: number, f: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => f(i)));

describe('other optimistic loops under contention: 200 or 409 contention, never 429', () => {
  it(`metadata edits: ${RACERS} concurrent PATCHes of one version`, async () => {
    await svc.call('POST', '/v1/assets/race/model/-/versions', { body: { version: '2.0.0', files: [{ path: 'm.bin', size: 1, sha256: VERIFIED }] } });
    const results = await all(RACERS, (i) => svc.call('PATCH', '/v1/assets/race/model/-/versions/2.0.0', { body: { metrics: { [`w${i}`]: i } } }));
    expectNoThrottle(results, 'VersionNotReady');
  });

  it(`new formats: ${RACERS} concurrent additions of files to one version`, async () => {
    await svc.call('POST', '/v1/assets/race/model/-/versions', { body: { version: '3.0.0', files: [{ path: 'm.bin', size: 1, sha256: VERIFIED }] } });
    const results = await all(RACERS, (i) =>
      svc.call('POST', '/v1/assets/race/model/-/versions/3.0.0/files', { body: { files: [{ path: `f${i}.onnx`, size: 1, sha256: VERIFIED, format: 'onnx' }] } }),
    );
    expectNoThrottle(results, 'VersionNotReady');
  });

  it(`delete: eight deletes of a version while ${2 * RACERS} writers edit it — exactly one wins, none starves`, async () => {
    await svc.call('POST', '/v1/assets/race/model/-/versions', { body: { version: '4.0.0', files: [{ path: 'm.bin', size: 1, sha256: VERIFIED }] } });
    const path = '/v1/assets/race/model/-/versions/4.0.0';
    let deleted = false;
    const editors = all(2 * RACERS, async (i) => {
      for (let n = 0; !deleted && n < 50; n++) await svc.call('PATCH', path, { body: { metrics: { [`w${i}`]: n } } });
    });
    await new Promise((r) => setTimeout(r, 30));
    const deletes = await all(8, () => svc.call('DELETE', path));
    deleted = true;
    await editors;
    // Edits do not make a version less deletable, so no delete loses to them: one wins, the others find its tombstone.
    expect(deletes.map((d) => d.status).sort()).toEqual([200, 404, 404, 404, 404, 404, 404, 404]);
    expect(deletes.find((d) => d.status === 200)?.body).toMatchObject({ status: 'deleted' });
    expect((await svc.call('GET', path)).status).toBe(404);
  });

  it(`commit: eight commits of a version while ${RACERS} writers edit it — none loses to the edits`, async () => {
    const arrived = 'd'.repeat(64);
    await svc.call('POST', '/v1/assets/race/model/-/versions', { body: { version: '5.0.0', files: [{ path: 'late.bin', size: 1, sha256: arrived }] } });
    // The bytes arrive through another upload (its record names its own object): commit has no S3 to read.
    const { ddb } = await import('../../functions/adapters/dynamo.ts');
    const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
    await ddb.send(new PutCommand({ TableName: svc.dynamo.tables.blobs, Item: { sha256: arrived, size: 1, key: `blobs/sha256/${arrived}/${'n'.repeat(22)}`, verifiedAt: 'now' } }));
    const path = '/v1/assets/race/model/-/versions/5.0.0';
    let committed = false;
    const editors = all(RACERS, async (i) => {
      for (let n = 0; !committed && n < 50; n++) await svc.call('PATCH', path, { body: { metrics: { [`w${i}`]: n } } });
    });
    await new Promise((r) => setTimeout(r, 30));
    const commits = await all(8, () => svc.call('POST', `${path}/commit`));
    committed = true;
    await editors;
    // Commit conditions on the files (filesRev), which edits do not change: no commit loses to the editors, and
    // the ones that lose to another commit find the version committed.
    expect(commits.map((c) => c.status)).toEqual(Array(8).fill(200));
    const version = await svc.call('GET', path);
    expect(version.body.status).toBe('ready');
  });

  it(`aliases: ${3 * RACERS} concurrent moves of one alias between two versions`, async () => {
    const results = await all(3 * RACERS, (i) => svc.call('PUT', '/v1/assets/race/model/-/aliases/prod', { body: { version: i % 2 === 0 ? '2.0.0' : '3.0.0' } }));
    expectNoThrottle(results, 'AliasInUse');
  });

  it(`assets: ${RACERS} concurrent edits of one asset`, async () => {
    const results = await all(RACERS, (i) => svc.call('PATCH', '/v1/assets/race/model', { body: { description: `edit ${i}` } }));
    expectNoThrottle(results, 'AlreadyExists');
  });
});
