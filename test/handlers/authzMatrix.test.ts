/**
 * The authorization matrix (issue 9): every route of ROUTES × every role (none, reader, writer, publisher,
 * admin, held on the prefix `in/`) × a target inside or outside that prefix, plus an admin of every name,
 * through the real handlers in IAM mode on DynamoDB Local. Allowed → neither 401 nor 403; refused → 403
 * (401 without a principal). The roles come from the grants table (set at run time through PUT /v1/grants),
 * the every-name admin from the deploy-time ARCA_GRANTS. Also: a grant written by another function
 * instance takes effect within the cache lifetime, and one cache refresh is one Scan.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../contract/env.ts';
import { ROUTES, ROLES, type Role, type RouteId } from '../../contract/routes.ts';
import { grantPrefixKey } from '../../contract/tables.ts';
import { startService, type Service } from '../fixtures/service.ts';

const arn = (name: string) => `arn:aws:iam::123456789012:role/${name}`;
const ROOT = arn('matrix-root');
/** Seconds a function trusts its copy of the grants table here: short, so the run-time test waits little. */
const CACHE_SECONDS = 2;

let svc: Service;
beforeAll(async () => {
  svc = await startService({
    [ENV.authMode]: 'iam',
    [ENV.grants]: JSON.stringify([{ principal: ROOT, prefix: '', role: 'admin' }]),
    [ENV.grantsCacheSeconds]: String(CACHE_SECONDS),
    [ENV.hookSecretKey]: '44'.repeat(32),
    [ENV.hooksAllowInsecure]: 'true',
  });
  for (const role of ROLES) {
    for (const prefix of ['in/', 'flows/in']) {
      const res = await svc.call('PUT', '/v1/grants', { body: { principal: arn(`matrix-${role}`), prefix, role }, ...as(ROOT) });
      expect(res.status).toBe(200);
    }
  }
});
afterAll(() => svc?.stop());

const as = (principal: string) => ({ token: null, authorizer: { iam: { userArn: principal } } });
const sha = 'ab'.repeat(32);
let serial = 0;

type Target = 'in' | 'out';
interface Fixture {
  method: string;
  path: string;
  body?: unknown;
}
/** One request per route id; `t` is the asset-name prefix the request aims at. Nothing needs to exist: authorization comes first. */
const FIXTURES: Record<RouteId, (t: Target) => Fixture> = {
  health: () => ({ method: 'GET', path: '/v1/health' }),
  openapi: () => ({ method: 'GET', path: '/v1/openapi.json' }),
  listAssets: () => ({ method: 'GET', path: '/v1/assets' }),
  createAsset: (t) => ({ method: 'POST', path: '/v1/assets', body: { name: `${t}/created-${++serial}`, type: 'model' } }),
  getAsset: (t) => ({ method: 'GET', path: `/v1/assets/${t}/model` }),
  updateAsset: (t) => ({ method: 'PATCH', path: `/v1/assets/${t}/model`, body: { description: 'd' } }),
  deleteAsset: (t) => ({ method: 'DELETE', path: `/v1/assets/${t}/model` }),
  listVersions: (t) => ({ method: 'GET', path: `/v1/assets/${t}/model/-/versions` }),
  createVersion: (t) => ({ method: 'POST', path: `/v1/assets/${t}/model/-/versions`, body: { version: '1.0.0', files: [{ path: 'm.bin', size: 3, sha256: sha }] } }),
  getVersion: (t) => ({ method: 'GET', path: `/v1/assets/${t}/model/-/versions/1.0.0` }),
  updateVersion: (t) => ({ method: 'PATCH', path: `/v1/assets/${t}/model/-/versions/1.0.0`, body: { description: 'd' } }),
  deleteVersion: (t) => ({ method: 'DELETE', path: `/v1/assets/${t}/model/-/versions/1.0.0` }),
  addFiles: (t) => ({ method: 'POST', path: `/v1/assets/${t}/model/-/versions/1.0.0/files`, body: { files: [{ path: 'n.bin', size: 3, sha256: sha }] } }),
  withdrawFiles: (t) => ({ method: 'DELETE', path: `/v1/assets/${t}/model/-/versions/1.0.0/files?format=onnx` }),
  commitVersion: (t) => ({ method: 'POST', path: `/v1/assets/${t}/model/-/versions/1.0.0/commit` }),
  uploadParts: (t) => ({ method: 'POST', path: `/v1/assets/${t}/model/-/versions/1.0.0/uploads/u1/parts`, body: {} }),
  publishVersion: (t) => ({ method: 'POST', path: `/v1/assets/${t}/model/-/versions/1.0.0/publish` }),
  downloadFile: (t) => ({ method: 'GET', path: `/v1/assets/${t}/model/-/versions/1.0.0/files/m.bin` }),
  listAliases: (t) => ({ method: 'GET', path: `/v1/assets/${t}/model/-/aliases` }),
  setAlias: (t) => ({ method: 'PUT', path: `/v1/assets/${t}/model/-/aliases/champion`, body: { version: '1.0.0' } }),
  deleteAlias: (t) => ({ method: 'DELETE', path: `/v1/assets/${t}/model/-/aliases/champion` }),
  resolve: (t) => ({ method: 'GET', path: `/v1/resolve/${t}/model:1.0.0` }),
  listHooks: () => ({ method: 'GET', path: '/v1/hooks' }),
  createHook: (t) => ({ method: 'POST', path: '/v1/hooks', body: { url: 'http://127.0.0.1:9/hook', events: ['Asset Deleted'], assetPrefix: `${t}/` } }),
  deleteHook: () => ({ method: 'DELETE', path: `/v1/hooks/${'a'.repeat(32)}` }),
  listDeliveries: () => ({ method: 'GET', path: `/v1/hooks/${'a'.repeat(32)}/deliveries` }),
  lineage: (t) => ({ method: 'GET', path: `/v1/assets/${t}/model/-/lineage?version=1.0.0` }),
  // A flow's routes are authorized on `flows/<flow>`: flow `in` lies inside the grants on `flows/in`.
  putOutput: (t) => ({ method: 'PUT', path: `/v1/flows/${t}/runs/r1/outputs/o${++serial}`, body: { files: [{ path: 'o.bin', size: 3, sha256: sha }] } }),
  getOutput: (t) => ({ method: 'GET', path: `/v1/flows/${t}/runs/r1/outputs/o1` }),
  listOutputs: (t) => ({ method: 'GET', path: `/v1/flows/${t}/runs/r1/outputs` }),
  commitOutput: (t) => ({ method: 'POST', path: `/v1/flows/${t}/runs/r1/outputs/o1/commit` }),
  outputParts: (t) => ({ method: 'POST', path: `/v1/flows/${t}/runs/r1/outputs/o1/uploads/u1/parts`, body: {} }),
  promoteOutput: (t) => ({ method: 'POST', path: `/v1/flows/${t}/runs/r1/outputs/o1/promote`, body: { asset: `${t}/promoted` } }),
  aliasHistory: (t) => ({ method: 'GET', path: `/v1/assets/${t}/model/-/aliases/champion/history` }),
  // Reader anywhere passes the route; the handler then needs reader on `?asset=`.
  listAudit: (t) => ({ method: 'GET', path: `/v1/audit?asset=${t}/model` }),
  listGrants: () => ({ method: 'GET', path: '/v1/grants' }),
  putGrant: (t) => ({ method: 'PUT', path: '/v1/grants', body: { principal: arn('matrix-bystander'), prefix: `${t}/`, role: 'reader' } }),
  deleteGrant: (t) => ({ method: 'DELETE', path: `/v1/grants?principal=${encodeURIComponent(arn('matrix-bystander'))}&prefix=${t}/` }),
};

/** Routes that act across every asset name: only an admin of every name passes (hooks see any asset; grants give any name). */
const REGISTRY_WIDE = new Set<RouteId>(['listHooks', 'createHook', 'deleteHook', 'listDeliveries', 'listGrants', 'putGrant', 'deleteGrant']);
/** Routes with no asset name whose role may be held anywhere (the listing filters what it shows). */
const ANYWHERE = new Set<RouteId>(['listAssets']);

const rank = (r: Role | undefined) => (r === undefined ? -1 : ROLES.indexOf(r));
type Holder = Role | 'none' | 'root';

function allowed(id: RouteId, needed: Role | null, holder: Holder, target: Target): boolean {
  if (needed === null || holder === 'root') return true;
  const held = holder === 'none' ? undefined : holder;
  if (REGISTRY_WIDE.has(id)) return false;
  if (ANYWHERE.has(id)) return rank(held) >= rank(needed);
  return target === 'in' && rank(held) >= rank(needed);
}

const principalOf = (holder: Holder) => (holder === 'root' ? ROOT : arn(`matrix-${holder}`));
const HOLDERS: Holder[] = ['none', ...ROLES, 'root'];

describe('authorization matrix', () => {
  it('has a request fixture for every route id in ROUTES (a new route fails here until it gets one)', () => {
    expect(Object.keys(FIXTURES).sort()).toEqual(ROUTES.map((r) => r.id).sort());
  });

  it.each(ROUTES.map((r) => [r.id, r] as const))('%s', async (id, route) => {
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const holder of HOLDERS) {
      for (const target of ['in', 'out'] as const) {
        const { method, path, body } = FIXTURES[id](target);
        const res = await svc.call(method, path, { ...(body !== undefined ? { body } : {}), ...as(principalOf(holder)) });
        const ok = allowed(id, route.role, holder, target);
        const label = `${holder} ${target}`;
        outcomes.push(`${label}: ${res.status === 403 ? 'refused' : res.status === 401 ? 'unauthenticated' : 'allowed'}`);
        expected.push(`${label}: ${ok ? 'allowed' : 'refused'}`);
        if (!ok) expect(res.body?.error?.code, `${label} ${method} ${path}`).toBe('Forbidden');
      }
    }
    expect(outcomes).toEqual(expected);
  });

  it.each(ROUTES.filter((r) => r.role !== null).map((r) => r.id))('%s answers 401 without a principal', async (id) => {
    const { method, path, body } = FIXTURES[id]('in');
    const res = await svc.call(method, path, { ...(body !== undefined ? { body } : {}), token: null });
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: 401, code: 'Unauthorized' });
  });
});

describe('grants at run time', () => {
  it('a grant written by another function instance takes effect within the cache lifetime, not before', async () => {
    const late = arn('matrix-late');
    const read = () => svc.call('GET', '/v1/assets/in/model', as(late));
    expect((await read()).status).toBe(403); // warms this function's copy of the grants
    const wrote = Date.now();
    await svc.dynamo.client.send(
      new PutCommand({
        TableName: svc.dynamo.tables.grants,
        Item: { principal: late, prefixKey: grantPrefixKey('in/'), prefix: 'in/', role: 'reader', grantedBy: ROOT, grantedAt: new Date().toISOString() },
      }),
    );
    const first = await read();
    // Only meaningful while the copy is fresh; under heavy load the lifetime may already be over.
    if (Date.now() - wrote < CACHE_SECONDS * 1000 - 200) expect(first.status).toBe(403);
    let status = first.status;
    while (status === 403 && Date.now() - wrote < CACHE_SECONDS * 1000 + 5000) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await read()).status;
    }
    expect(status).toBe(404); // allowed now: the asset does not exist
  });

  it('a grant changed through the API applies at once in the function that changed it, and revoking it too', async () => {
    const colleague = arn('matrix-colleague');
    const write = () => svc.call('POST', '/v1/assets', { body: { name: `in/colleague-${++serial}`, type: 'model' }, ...as(colleague) });
    expect((await write()).status).toBe(403);
    expect((await svc.call('PUT', '/v1/grants', { body: { principal: colleague, prefix: 'in/', role: 'writer' }, ...as(ROOT) })).status).toBe(200);
    expect((await write()).status).toBe(201);
    const del = await svc.call('DELETE', '/v1/grants', { query: { principal: colleague, prefix: 'in/' }, ...as(ROOT) });
    expect(del.status).toBe(204);
    expect((await write()).status).toBe(403);
  });

  it('one cache refresh is one Scan of the grants table, however many requests it serves', async () => {
    await svc.call('PUT', '/v1/grants', { body: { principal: arn('matrix-counted'), prefix: 'in/', role: 'reader' }, ...as(ROOT) });
    svc.counts.clear();
    for (let i = 0; i < 10; i++) await svc.call('GET', '/v1/assets/in/model', as(arn('matrix-reader')));
    expect(svc.counts.get('ScanCommand')).toBe(1);
  });
});
