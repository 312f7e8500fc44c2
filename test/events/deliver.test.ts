import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { attemptDelivery, httpPoster } from '../../functions/events/deliver.ts';
import { deliveryJobs, processRecord, type DeliveryJob, type HookTarget } from '../../functions/events/outbox.ts';
import { verifyWebhook } from '../../client/webhooks.ts';
import type { ArcaEvent } from '../../contract/events.ts';
import { marshall } from '@aws-sdk/util-dynamodb';

const event = (detailType: ArcaEvent['detailType'], asset: string): ArcaEvent => ({
  detailType,
  detail: { eventId: 'e'.repeat(64), asset, actor: 'alice', at: '2026-11-22T10:00:00.000Z' },
});

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}
const received: Received[] = [];
let answer = 200;
let base = '';
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString('utf8')));
  req.on('end', () => {
    received.push({ headers: req.headers, body });
    res.statusCode = answer;
    res.end('ok');
  });
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

const post = httpPoster({ allowInsecure: true });
const hook = { id: 'h'.repeat(32), url: '', secret: 'sekrit-sekrit-sekrit' };
const job: DeliveryJob = { hookId: hook.id, event: event('Asset Version Created', 'fraud/xgb') };
const clock = () => new Date('2026-11-22T10:00:00Z');

describe('attemptDelivery', () => {
  it('POSTs the signed event envelope and records a success', async () => {
    answer = 204;
    received.length = 0;
    const record = await attemptDelivery({ ...hook, url: `${base}/hook` }, job, 1, false, post, clock);
    expect(record).toEqual({
      hookId: hook.id,
      eventId: job.event.detail.eventId,
      detailType: 'Asset Version Created',
      attempt: 1,
      statusCode: 204,
      ok: true,
      final: true,
      at: '2026-11-22T10:00:00.000Z',
      durationMs: 0,
    });
    const [got] = received;
    expect(JSON.parse(got?.body ?? '')).toEqual({
      id: job.event.detail.eventId,
      source: 'arca',
      'detail-type': 'Asset Version Created',
      time: '2026-11-22T10:00:00.000Z',
      detail: job.event.detail,
    });
    expect(got?.headers).toMatchObject({
      'content-type': 'application/json',
      'arca-event-id': job.event.detail.eventId,
      'arca-event-type': 'Asset Version Created',
      'arca-delivery-attempt': '1',
    });
    expect(got?.headers['arca-signature']).toMatch(/^t=1795341600,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(hook.secret, got?.headers ?? {}, got?.body ?? '', 300, clock())).toBe(true);
  });

  it('records a non-2xx answer as a failure, final only on the last attempt', async () => {
    answer = 500;
    const failed = await attemptDelivery({ ...hook, url: `${base}/hook` }, job, 3, false, post, clock);
    expect(failed).toMatchObject({ attempt: 3, statusCode: 500, ok: false, final: false, error: 'receiver answered 500' });
    const last = await attemptDelivery({ ...hook, url: `${base}/hook` }, job, 19, true, post, clock);
    expect(last).toMatchObject({ attempt: 19, statusCode: 500, ok: false, final: true });
  });

  it('records a refused connection without a status code', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const record = await attemptDelivery({ ...hook, url: `http://127.0.0.1:${port}/` }, job, 1, false, post, clock);
    expect(record.statusCode).toBeUndefined();
    expect(record).toMatchObject({ ok: false, final: false, error: expect.stringMatching(/ECONNREFUSED/) });
  });
});

describe('fan-out', () => {
  const hooks: HookTarget[] = [
    { id: 'all-created', events: ['Asset Version Created'] },
    { id: 'fraud-only', events: ['Asset Version Created', 'Alias Updated'], assetPrefix: 'fraud/' },
    { id: 'deletions', events: ['Asset Deleted'] },
  ];
  it('matches each event to the hooks subscribed to its type and asset prefix', () => {
    const jobs = deliveryJobs(hooks, [event('Asset Version Created', 'fraud/xgb'), event('Asset Version Created', 'churn/lr'), event('Alias Updated', 'fraudulent/x')]);
    expect(jobs.map((j) => [j.hookId, j.event.detail.asset])).toEqual([
      ['all-created', 'fraud/xgb'],
      ['fraud-only', 'fraud/xgb'],
      ['all-created', 'churn/lr'],
    ]);
  });

  it('processRecord publishes the derived events, then enqueues their deliveries', async () => {
    const calls: string[] = [];
    const record = {
      eventName: 'INSERT',
      dynamodb: {
        Keys: marshall({ asset: 'fraud/xgb', alias: 'production' }),
        NewImage: marshall({ asset: 'fraud/xgb', alias: 'production', version: '1.0.0', updatedBy: 'x', updatedAt: '2026-11-22T10:00:00Z' }),
        SequenceNumber: '7',
      },
    };
    const events = await processRecord(record, {
      publish: async (e) => void calls.push(`publish ${e.map((x) => x.detailType).join()}`),
      listHooks: async () => hooks,
      enqueue: async (jobs) => void calls.push(`enqueue ${jobs.map((j) => j.hookId).join()}`),
      writeEdges: async () => void calls.push('edges'),
    });
    expect(events).toHaveLength(1);
    expect(calls).toEqual(['publish Alias Updated', 'enqueue fraud-only']);
  });

  it('processRecord writes a new version\'s lineage edges before its events, and never for a later change', async () => {
    const version = { asset: 'fraud/ens', vkey: 'v1', version: '1.0.0', status: 'ready', records: ['fraud/xgb:1.0.0', 'fraud/data:2.0.0'], files: [] };
    const calls: string[] = [];
    const ports = {
      publish: async (e: ArcaEvent[]) => void calls.push(`publish ${e.length}`),
      listHooks: async () => [],
      enqueue: async () => undefined,
      writeEdges: async (downstream: string, upstreams: string[]) => void calls.push(`edges ${downstream} <- ${upstreams.join(' ')}`),
    };
    await processRecord({ eventName: 'INSERT', dynamodb: { Keys: marshall({ asset: 'fraud/ens', vkey: 'v1' }), NewImage: marshall(version), SequenceNumber: '9' } }, ports);
    expect(calls[0]).toBe('edges fraud/ens:1.0.0 <- fraud/xgb:1.0.0 fraud/data:2.0.0');
    calls.length = 0;
    const published = { ...version, status: 'published', publishedBy: 'x', publishedAt: '2026-11-22T10:00:00Z' };
    await processRecord({ eventName: 'MODIFY', dynamodb: { Keys: marshall({ asset: 'fraud/ens', vkey: 'v1' }), OldImage: marshall(version), NewImage: marshall(published), SequenceNumber: '10' } }, ports);
    expect(calls.filter((c) => c.startsWith('edges'))).toEqual([]);
  });

  it('processRecord touches nothing for a change that means no event', async () => {
    const record = { eventName: 'MODIFY', dynamodb: { Keys: marshall({ name: 'a' }), OldImage: marshall({ name: 'a' }), NewImage: marshall({ name: 'a' }), SequenceNumber: '8' } };
    const fail = async () => {
      throw new Error('must not be called');
    };
    await expect(processRecord(record, { publish: fail, listHooks: fail, enqueue: fail, writeEdges: fail })).resolves.toEqual([]);
  });
});
