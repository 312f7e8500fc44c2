/** Who may manage webhooks (R-SEC: admins manage hooks): an admin of every asset name, nobody less. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../contract/env.ts';
import { startService, type Service } from '../fixtures/service.ts';

const arn = (name: string) => `arn:aws:iam::123456789012:role/${name}`;
const GRANTS = [
  { principal: arn('registry-admin'), prefix: '', role: 'admin' },
  { principal: arn('fraud-admin'), prefix: 'fraud/', role: 'admin' },
  { principal: arn('writer'), prefix: '', role: 'writer' },
];

let service: Service;
beforeAll(async () => {
  service = await startService({
    [ENV.authMode]: 'iam',
    [ENV.grants]: JSON.stringify(GRANTS),
    [ENV.hookSecretKey]: '33'.repeat(32),
    // Loopback URLs let the test register hooks without DNS; the roles are what is under test.
    [ENV.hooksAllowInsecure]: 'true',
  });
});
afterAll(() => service?.stop());

const as = (who: string) => ({ token: null, authorizer: { iam: { userArn: arn(who) } } });
const body = { url: 'http://127.0.0.1:9/hook', events: ['Asset Deleted'], assetPrefix: 'fraud/' };

describe('hook routes and roles', () => {
  it('an admin of every asset name manages hooks', async () => {
    const created = await service.call('POST', '/v1/hooks', { body, ...as('registry-admin') });
    expect(created.status).toBe(201);
    expect(created.body.createdBy).toBe(arn('registry-admin'));
    expect((await service.call('GET', '/v1/hooks', as('registry-admin'))).status).toBe(200);
    expect((await service.call('GET', `/v1/hooks/${created.body.id}/deliveries`, as('registry-admin'))).status).toBe(200);
    expect((await service.call('DELETE', `/v1/hooks/${created.body.id}`, as('registry-admin'))).status).toBe(204);
  });

  it.each([
    ['an admin of one prefix only', 'fraud-admin'],
    ['a writer of every name', 'writer'],
    ['a principal with no grant', 'stranger'],
  ])('%s gets 403 on every hook route', async (_who, who) => {
    for (const [method, path] of [
      ['POST', '/v1/hooks'],
      ['GET', '/v1/hooks'],
      ['GET', `/v1/hooks/${'a'.repeat(32)}/deliveries`],
      ['DELETE', `/v1/hooks/${'a'.repeat(32)}`],
    ] as const) {
      const res = await service.call(method, path, { ...(method === 'POST' ? { body } : {}), ...as(who) });
      expect({ route: `${method} ${path}`, status: res.status, code: res.body?.error?.code }).toEqual({ route: `${method} ${path}`, status: 403, code: 'Forbidden' });
    }
  });
});
