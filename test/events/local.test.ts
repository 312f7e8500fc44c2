/**
 * Events end to end in local mode (R-EVENT, R-LOCAL): DynamoDB Local's streams → the outbox → signed
 * webhooks to a loopback receiver. Its own registry, with a short retry backoff and a cap of 2 versions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLocal, type LocalRegistry } from '../../local/server.ts';
import { ArcaClient } from '../../client/client.ts';
import { verifyWebhook } from '../../client/webhooks.ts';
import { DETAIL_SCHEMAS, DETAIL_TYPES, type DeliveryRecord, type DetailType, type HookRecord, type WebhookPayload } from '../../contract/events.ts';
import { ENV } from '../../contract/env.ts';

interface Hit {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  payload: WebhookPayload;
}

let dir: string;
let registry: LocalRegistry;
let client: ArcaClient;
let receiver: http.Server;
let receiverUrl: string;
const hits: Hit[] = [];
/** Status codes to answer per path, consumed one per request; then 200. */
const scripted = new Map<string, number[]>();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'arca-events-'));
  registry = await startLocal({
    dataDir: dir,
    port: 0,
    inMemory: true,
    env: { [ENV.hookRetryBaseSeconds]: '0.2', [ENV.maxVersionsPerAsset]: '2', POWERTOOLS_LOG_LEVEL: 'ERROR' } as Record<string, string>,
  });
  client = new ArcaClient({ url: registry.url, token: registry.token, cacheDir: path.join(dir, 'cache') });
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const url = req.url ?? '';
      hits.push({ path: url, headers: req.headers, body, payload: JSON.parse(body) as WebhookPayload });
      res.statusCode = scripted.get(url)?.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  client?.close();
  receiver?.close();
  await registry?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function api<T>(method: string, route: string, json?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${registry.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${registry.token}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function registerHook(hookPath: string, events: readonly DetailType[], assetPrefix: string): Promise<HookRecord & { secret: string }> {
  const res = await api<HookRecord & { secret: string }>('POST', '/v1/hooks', { url: `${receiverUrl}${hookPath}`, events, assetPrefix });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const hitsOn = (p: string) => hits.filter((h) => h.path === p);

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
/** Long enough for a stray event to have arrived: several stream polls. */
const settle = () => new Promise((r) => setTimeout(r, 1500));

async function modelFile(): Promise<string> {
  const file = path.join(dir, `${randomUUID()}.pkl`);
  await writeFile(file, randomBytes(2048));
  return file;
}

describe('events in local mode', () => {
  it('a pushed, published and aliased version reaches a webhook as exactly three signed events', async () => {
    const name = `events/flow-${randomUUID().slice(0, 8)}`;
    await client.createAsset({ name, type: 'model' });
    // Every type but `Asset Created` (which happened before the hook existed): anything else would show up.
    const hook = await registerHook('/flow', DETAIL_TYPES.filter((t) => t !== 'Asset Created'), name);
    expect(hook.secret).toMatch(/^whsec_/);

    const pushed = await client.push(name, [await modelFile()]);
    expect(pushed.version).toMatchObject({ version: '1.0.0', status: 'ready' });
    await client.publish(name, '1.0.0');
    await client.setAlias(name, 'production', '1.0.0');

    await until(() => hitsOn('/flow').length >= 3, 'three deliveries');
    await settle();
    const got = hitsOn('/flow');
    expect(got.map((h) => h.payload['detail-type']).sort()).toEqual(['Alias Updated', 'Asset Version Created', 'Asset Version Published']);
    for (const h of got) {
      expect(verifyWebhook(hook.secret, h.headers, h.body, 300)).toBe(true);
      expect(verifyWebhook('another-secret-entirely', h.headers, h.body, 300)).toBe(false);
      expect(h.payload).toMatchObject({ id: h.payload.detail.eventId, source: 'arca', time: h.payload.detail.at });
      expect(DETAIL_SCHEMAS[h.payload['detail-type']].parse(h.payload.detail)).toEqual(h.payload.detail);
      expect(h.headers['arca-event-id']).toBe(h.payload.id);
    }
    expect(new Set(got.map((h) => h.payload.id)).size).toBe(3);
    const byType = Object.fromEntries(got.map((h) => [h.payload['detail-type'], h.payload.detail]));
    const file = pushed.version.files[0];
    expect(byType['Asset Version Created']).toMatchObject({
      asset: name,
      version: '1.0.0',
      status: 'ready',
      files: [{ path: file?.path, size: 2048, sha256: file?.sha256, format: 'pkl' }],
      actor: 'local-admin',
    });
    expect(byType['Asset Version Published']).toMatchObject({ asset: name, version: '1.0.0', status: 'published' });
    expect(byType['Alias Updated']).toMatchObject({ asset: name, alias: 'production', version: '1.0.0', actor: 'local-admin' });

    const deliveries = await api<{ items: DeliveryRecord[] }>('GET', `/v1/hooks/${hook.id}/deliveries`);
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.items).toHaveLength(3);
    for (const d of deliveries.body.items) expect(d).toMatchObject({ hookId: hook.id, attempt: 1, statusCode: 200, ok: true, final: true });
    expect(deliveries.body.items.map((d) => d.eventId).sort()).toEqual(got.map((h) => h.payload.id).sort());
  });

  it('a receiver that answers 500 twice then 200 gets the event on the third try', async () => {
    const name = `events/flaky-${randomUUID().slice(0, 8)}`;
    scripted.set('/flaky', [500, 500]);
    const hook = await registerHook('/flaky', ['Asset Created'], name);
    await client.createAsset({ name, type: 'dataset' });

    await until(() => hitsOn('/flaky').length >= 3, 'three attempts');
    await settle();
    const got = hitsOn('/flaky');
    expect(got).toHaveLength(3);
    expect(got.map((h) => h.headers['arca-delivery-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(got.map((h) => h.payload.id)).size).toBe(1);
    expect(got[0]?.payload).toMatchObject({ 'detail-type': 'Asset Created', detail: { asset: name, actor: 'local-admin' } });
    for (const h of got) expect(verifyWebhook(hook.secret, h.headers, h.body, 300)).toBe(true);

    const deliveries = await api<{ items: DeliveryRecord[] }>('GET', `/v1/hooks/${hook.id}/deliveries`);
    expect(deliveries.body.items.map((d) => [d.attempt, d.statusCode, d.ok, d.final])).toEqual([
      [3, 200, true, true],
      [2, 500, false, false],
      [1, 500, false, false],
    ]);
  });

  it('a version creation cancelled at the cap emits nothing', async () => {
    const name = `events/cap-${randomUUID().slice(0, 8)}`;
    await registerHook('/cap', DETAIL_TYPES, name);
    const file = await modelFile();
    await client.push(name, [file]);
    // Same bytes: the blob is present, so this version is ready at once and announced from its INSERT.
    await client.push(name, [file]);
    await expect(client.push(name, [file])).rejects.toMatchObject({ code: 'VersionCapReached' });
    // A later change on the same asset: once its event is in, anything from the refused create would be too.
    await client.setAlias(name, 'sentinel', '1.1.0');

    await until(() => hitsOn('/cap').some((h) => h.payload['detail-type'] === 'Alias Updated'), 'the sentinel event');
    await settle();
    const got = hitsOn('/cap').map((h) => [h.payload['detail-type'], h.payload.detail.version ?? null]);
    expect(got.sort()).toEqual([
      ['Alias Updated', '1.1.0'],
      ['Asset Created', null],
      ['Asset Version Created', '1.0.0'],
      ['Asset Version Created', '1.1.0'],
    ]);
  });

  it('local mode lets hooks use http and loopback, and still refuses private and link-local addresses with 400', async () => {
    for (const url of ['http://10.0.0.1/hook', 'https://169.254.169.254/latest/meta-data/', 'http://[fe80::1]/hook', 'http://192.168.1.1/']) {
      const res = await api<{ error: { code: string; details: unknown } }>('POST', '/v1/hooks', { url, events: ['Asset Created'] });
      expect({ url, status: res.status, code: res.body.error.code, details: res.body.error.details }).toEqual({
        url,
        status: 400,
        code: 'ValidationError',
        details: { field: 'url' },
      });
    }
    const loopback = await api<HookRecord>('POST', '/v1/hooks', { url: 'http://localhost:1/x', events: ['Asset Created'], assetPrefix: 'nothing/' });
    expect(loopback.status).toBe(201);
    expect((await api('DELETE', `/v1/hooks/${loopback.body.id}`)).status).toBe(204);
  });

  it("deleting an asset announces the asset (with who deleted it), its live versions and its aliases", async () => {
    const name = `events/gone-${randomUUID().slice(0, 8)}`;
    await registerHook('/gone-probe', ['Alias Updated'], name);
    await client.push(name, [await modelFile()]);
    await client.setAlias(name, 'production', '1.0.0');
    // Once the alias move has been fanned out, a hook registered now sees only what follows.
    await until(() => hitsOn('/gone-probe').length >= 1, 'the alias move');
    await registerHook('/gone', ['Asset Deleted', 'Asset Version Deleted', 'Alias Updated'], name);
    const res = await api('DELETE', `/v1/assets/${name}?force=true&reason=cleanup`);
    expect(res.status).toBe(204);

    await until(() => hitsOn('/gone').length >= 3, 'three events');
    await settle();
    const got = hitsOn('/gone').map((h) => [h.payload['detail-type'], h.payload.detail.version ?? null, h.payload.detail.actor]);
    // Every removal the user's delete caused names the user, not `system` (issue 9).
    expect(got.sort()).toEqual([
      ['Alias Updated', null, 'local-admin'],
      ['Asset Deleted', null, 'local-admin'],
      ['Asset Version Deleted', '1.0.0', 'local-admin'],
    ]);
    expect(hitsOn('/gone').find((h) => h.payload['detail-type'] === 'Asset Deleted')?.payload.detail.reason).toBe('cleanup');
  });

  it('an eviction at the cap (evict-oldest) announces the evicted version and the new one, each from its own item', async () => {
    const name = `events/evict-${randomUUID().slice(0, 8)}`;
    await registerHook('/evict', ['Asset Version Created', 'Asset Version Deleted'], name);
    await client.createAsset({ name, type: 'model', capPolicy: 'evict-oldest' });
    const file = await modelFile();
    for (let i = 0; i < 3; i++) await client.push(name, [file]);

    await until(() => hitsOn('/evict').length >= 4, 'four events');
    await settle();
    const got = hitsOn('/evict').map((h) => [h.payload['detail-type'], h.payload.detail.version, h.payload.detail.actor]);
    expect(got.sort()).toEqual([
      ['Asset Version Created', '1.0.0', 'local-admin'],
      ['Asset Version Created', '1.1.0', 'local-admin'],
      ['Asset Version Created', '1.2.0', 'local-admin'],
      ['Asset Version Deleted', '1.0.0', 'system'],
    ]);
  });
});
