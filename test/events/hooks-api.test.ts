/** The webhook routes through the real handlers over DynamoDB Local, outside local mode (https only, no loopback). */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import dns from 'node:dns';
import { ThrottlingException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../../contract/env.ts';
import { startService, type Service } from '../fixtures/service.ts';

const DNS: Record<string, string[]> = {
  'hooks.example.com': ['93.184.215.14'],
  'private.example.com': ['10.1.2.3'],
  'sneaky.example.com': ['93.184.215.14', '169.254.169.254'],
};

let service: Service;
beforeAll(async () => {
  vi.spyOn(dns.promises, 'lookup').mockImplementation((async (host: string) => {
    const addresses = DNS[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: 4 }));
  }) as unknown as typeof dns.promises.lookup);
  service = await startService({ [ENV.hookSecretKey]: '11'.repeat(32), [ENV.hooksAllowInsecure]: 'false' });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await service?.stop();
});

const create = (body: unknown) => service.call('POST', '/v1/hooks', { body });

describe('POST /v1/hooks', () => {
  it('registers a hook, generates its secret, returns it once and stores it sealed', async () => {
    const res = await create({ url: 'https://hooks.example.com/arca', events: ['Asset Version Created', 'Alias Updated'], assetPrefix: 'fraud/' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      url: 'https://hooks.example.com/arca',
      events: ['Asset Version Created', 'Alias Updated'],
      assetPrefix: 'fraud/',
      createdAt: expect.any(String),
      createdBy: 'local-admin',
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{43}$/),
    });
    expect(res.headers).toMatchObject({ location: `/v1/hooks/${res.body.id}`, 'x-request-id': expect.any(String) });

    const list = await service.call('GET', '/v1/hooks');
    expect(list.status).toBe(200);
    const listed = list.body.items.find((h: { id: string }) => h.id === res.body.id);
    const { secret, ...withoutSecret } = res.body;
    expect(listed).toEqual(withoutSecret);

    const { Item } = await DynamoDBDocumentClient.from(service.dynamo.client).send(new GetCommand({ TableName: service.dynamo.tables.hooks, Key: { id: res.body.id } }));
    expect(Item?.secret).toMatch(/^aes:/);
    expect(JSON.stringify(Item)).not.toContain(secret);
  });

  it('keeps a secret the caller chose', async () => {
    const res = await create({ url: 'https://hooks.example.com/x', events: ['Asset Deleted'], secret: 'my-own-secret-0123456789' });
    expect(res.status).toBe(201);
    expect(res.body.secret).toBe('my-own-secret-0123456789');
  });

  it.each([
    ['a private IPv4 address', 'https://10.0.0.1/hook', /non-public address \(10\.0\.0\.1\)/],
    ['the instance metadata address', 'https://169.254.169.254/latest/meta-data/', /non-public address \(169\.254\.169\.254\)/],
    ['loopback (outside local mode)', 'https://127.0.0.1/hook', /non-public address \(127\.0\.0\.1\)/],
    ['IPv6 loopback', 'https://[::1]/hook', /non-public address \(::1\)/],
    ['a name resolving to a private address', 'https://private.example.com/hook', /private\.example\.com resolves to a non-public address \(10\.1\.2\.3\)/],
    ['a name with one link-local address among public ones', 'https://sneaky.example.com/hook', /non-public address \(169\.254\.169\.254\)/],
    ['a name that does not resolve', 'https://nowhere.example.com/hook', /does not resolve/],
    ['plain http', 'http://hooks.example.com/hook', /must use https/],
  ])('refuses %s with 400', async (_what, url, message) => {
    const res = await create({ url, events: ['Asset Version Created'] });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: { code: 'ValidationError', message: expect.stringMatching(message), requestId: res.headers['x-request-id'], details: { field: 'url' } },
    });
  });

  it.each([
    ['no events', { url: 'https://hooks.example.com/', events: [] }],
    ['an unknown event', { url: 'https://hooks.example.com/', events: ['Model Trained'] }],
    ['a repeated event', { url: 'https://hooks.example.com/', events: ['Asset Deleted', 'Asset Deleted'] }],
    ['a short secret', { url: 'https://hooks.example.com/', events: ['Asset Deleted'], secret: 'short' }],
    ['an unknown field', { url: 'https://hooks.example.com/', events: ['Asset Deleted'], extra: 1 }],
    ['a bad prefix', { url: 'https://hooks.example.com/', events: ['Asset Deleted'], assetPrefix: 'Fraud/*' }],
  ])('refuses %s with 400', async (_what, body) => {
    const res = await create(body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('ValidationError');
  });

  it('needs credentials', async () => {
    const res = await service.call('POST', '/v1/hooks', { body: { url: 'https://hooks.example.com/', events: ['Asset Deleted'] }, token: null });
    expect(res.status).toBe(401);
  });
});

describe('DELETE /v1/hooks/{id} and GET /v1/hooks/{id}/deliveries', () => {
  it('lists no deliveries for a new hook, deletes it, then knows it no more', async () => {
    const { body: hook } = await create({ url: 'https://hooks.example.com/d', events: ['Asset Deleted'] });
    const deliveries = await service.call('GET', `/v1/hooks/${hook.id}/deliveries`);
    expect({ status: deliveries.status, body: deliveries.body }).toEqual({ status: 200, body: { items: [] } });
    expect((await service.call('DELETE', `/v1/hooks/${hook.id}`)).status).toBe(204);
    const again = await service.call('DELETE', `/v1/hooks/${hook.id}`);
    expect(again.status).toBe(404);
    expect(again.body.error).toMatchObject({ code: 'NotFound', details: { hook: hook.id } });
    expect((await service.call('GET', `/v1/hooks/${hook.id}/deliveries`)).status).toBe(404);
  });

  it('a throttled hook table is a 429 Throttled, as every other table', async () => {
    const { HookStore } = await import('../../functions/hooks/store.ts');
    const throttled = { send: () => Promise.reject(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} })) };
    const store = new HookStore(throttled as unknown as DynamoDBDocumentClient, { hooks: 'Hooks', deliveries: 'Deliveries' });
    for (const read of [() => store.list(10), () => store.all(), () => store.get('a'.repeat(32)), () => store.deliveries('a'.repeat(32), 10)]) {
      await expect(read()).rejects.toMatchObject({ code: 'Throttled', status: 429 });
    }
  });

  it('answers 404 for an id that is not a hook id', async () => {
    expect((await service.call('GET', '/v1/hooks/not-an-id/deliveries')).status).toBe(404);
    expect((await service.call('DELETE', '/v1/hooks/not-an-id')).status).toBe(404);
  });
});
