/**
 * Lineage both ways over three generations (dataset → model → ensemble, the dataset promoted from a run
 * output) through the handlers on DynamoDB Local, with the DynamoDB requests of each read counted.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ENV } from '../../contract/env.ts';
import { startService, type Service } from '../fixtures/service.ts';

// The create's own edge write, failed on demand to stand for a Lambda that stops right after the transaction.
const putEdges = vi.hoisted(() => ({ fail: false }));
vi.mock('../../functions/adapters/lineageRepo.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../functions/adapters/lineageRepo.ts')>();
  return {
    ...original,
    putEdges: async (...args: Parameters<typeof original.putEdges>) => {
      if (putEdges.fail) throw new Error('the create stopped after its transaction');
      return original.putEdges(...args);
    },
  };
});

let svc: Service;
const sha = (n: number) => n.toString(16).padStart(64, '0');
const files = [{ path: 'data.bin', size: 3, sha256: sha(7) }];

beforeAll(async () => {
  // The local stream poller (the crash test) needs its webhook-secret key, though no hook is registered.
  svc = await startService({ [ENV.hookSecretKey]: '33'.repeat(32) });
  const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
  const { ddb } = await import('../../functions/adapters/dynamo.ts');
  // A verified blob: versions and outputs are ready at once, no S3 involved.
  await ddb.send(new PutCommand({ TableName: svc.dynamo.tables.blobs, Item: { sha256: sha(7), size: 3, verifiedAt: new Date().toISOString() } }));
  for (const [name, type] of [['lin/data', 'dataset'], ['lin/model', 'model'], ['lin/other', 'model'], ['lin/ensemble', 'model']]) {
    expect((await svc.call('POST', '/v1/assets', { body: { name, type } })).status).toBe(201);
  }
  expect((await svc.call('PUT', '/v1/flows/prep/runs/r7/outputs/clean', { body: { files } })).body.status).toBe('ready');
  const promoted = await svc.call('POST', '/v1/flows/prep/runs/r7/outputs/clean/promote', { body: { asset: 'lin/data', version: '1.0.0' } });
  expect(promoted.status).toBe(201);
  const create = async (asset: string, records: string[]) => {
    const res = await svc.call('POST', `/v1/assets/${asset}/-/versions`, { body: { version: '1.0.0', files, records } });
    expect(res.status).toBe(201);
  };
  await create('lin/model', ['lin/data:1.0.0']);
  await create('lin/other', ['lin/data']); // recorded as the exact version it resolved to
  await create('lin/ensemble', ['lin/model:1.0.0', 'lin/other:1']);
});
afterAll(async () => svc?.stop());

async function lineageOf(asset: string, query = 'version=1.0.0') {
  svc.counts.clear();
  const res = await svc.call('GET', `/v1/assets/${asset}/-/lineage?${query}`);
  return { res, counts: Object.fromEntries(svc.counts) };
}

describe('lineage (GET …/-/lineage?version=)', () => {
  it('the dataset: upstream is the run output it was promoted from, downstream the two models', async () => {
    const { res, counts } = await lineageOf('lin/data');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      asset: 'lin/data',
      version: '1.0.0',
      status: 'ready',
      upstream: { records: [], source: { flow: 'prep', run: 'r7', name: 'clean' } },
      downstream: {
        items: [
          { asset: 'lin/model', version: '1.0.0' },
          { asset: 'lin/other', version: '1.0.0' },
        ],
      },
    });
    // The version (its records and source): one GetItem; who records it: one Query.
    expect(counts).toEqual({ GetItemCommand: 1, QueryCommand: 1 });
  });

  it('the model: the dataset upstream, the ensemble downstream', async () => {
    const { res } = await lineageOf('lin/model');
    expect(res.body.upstream).toEqual({ records: [{ asset: 'lin/data', version: '1.0.0' }] });
    expect(res.body.downstream).toEqual({ items: [{ asset: 'lin/ensemble', version: '1.0.0' }] });
  });

  it('the ensemble: both models upstream, nothing downstream', async () => {
    const { res } = await lineageOf('lin/ensemble');
    expect(res.body.upstream.records).toEqual([
      { asset: 'lin/model', version: '1.0.0' },
      { asset: 'lin/other', version: '1.0.0' },
    ]);
    expect(res.body.downstream).toEqual({ items: [] });
  });

  it('pages downstream with a cursor', async () => {
    const first = await lineageOf('lin/data', 'version=1.0.0&limit=1');
    expect(first.res.body.downstream.items).toEqual([{ asset: 'lin/model', version: '1.0.0' }]);
    const cursor = first.res.body.downstream.nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    const second = await lineageOf('lin/data', `version=1.0.0&limit=1&cursor=${cursor}`);
    expect(second.res.body.downstream.items).toEqual([{ asset: 'lin/other', version: '1.0.0' }]);
    // Another version's cursor is refused, not followed.
    expect((await lineageOf('lin/model', `version=1.0.0&cursor=${cursor}`)).res.status).toBe(400);
  });

  it('keeps a deleted version in its lineage, marked deleted', async () => {
    expect((await svc.call('DELETE', '/v1/assets/lin/other/-/versions/1.0.0')).status).toBe(200);
    const { res } = await lineageOf('lin/other');
    expect(res.body).toMatchObject({ status: 'deleted', upstream: { records: [{ asset: 'lin/data', version: '1.0.0' }] } });
    expect((await lineageOf('lin/data')).res.body.downstream.items).toContainEqual({ asset: 'lin/other', version: '1.0.0' });
  });

  it('answers 400 without a version or with a bad one, 404 for an unknown one', async () => {
    expect((await lineageOf('lin/data', '')).res.status).toBe(400);
    expect((await lineageOf('lin/data', 'version=nope')).res.status).toBe(400);
    expect((await lineageOf('lin/data', 'version=9.9.9')).res.status).toBe(404);
  });

  it('loses no edges when the create stops between its transaction and its edge write: the versions stream writes them', async () => {
    await svc.call('POST', '/v1/assets', { body: { name: 'lin/crash', type: 'model' } });
    putEdges.fail = true;
    const crashed = await svc.call('POST', '/v1/assets/lin/crash/-/versions', { body: { version: '1.0.0', files, records: ['lin/data:1.0.0'] } });
    putEdges.fail = false;
    expect(crashed.status).toBe(500);
    const downstream = async () => ((await lineageOf('lin/data')).res.body.downstream.items as unknown[]);
    // The version exists, its edge does not (yet).
    expect((await lineageOf('lin/crash')).res.body.upstream.records).toEqual([{ asset: 'lin/data', version: '1.0.0' }]);
    expect(await downstream()).not.toContainEqual({ asset: 'lin/crash', version: '1.0.0' });

    const dir = await mkdtemp(path.join(tmpdir(), 'arca-lineage-stream-'));
    const { startEvents } = await import('../../local/events.ts');
    const poller = await startEvents({ dynamo: svc.dynamo.client, endpoint: svc.dynamo.endpoint, tables: svc.dynamo.tables, checkpointFile: path.join(dir, 'cp.json'), pollMs: 50 });
    try {
      const deadline = Date.now() + 20_000;
      while (!(await downstream()).some((v) => JSON.stringify(v) === JSON.stringify({ asset: 'lin/crash', version: '1.0.0' }))) {
        if (Date.now() > deadline) throw new Error('the stream did not write the edge');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await poller.stop();
      await rm(dir, { recursive: true, force: true });
    }
    // The stream replayed every create from the start: edges written twice are still one each.
    expect(await downstream()).toEqual([
      { asset: 'lin/crash', version: '1.0.0' },
      { asset: 'lin/model', version: '1.0.0' },
      { asset: 'lin/other', version: '1.0.0' },
    ]);
  });
});
