/**
 * Property-based fuzzing (fast-check), bounded so it runs in `npm test`; `npm run fuzz` multiplies the runs
 * by ARCA_FUZZ_SCALE (10: ≥ 50,000 cases). Two layers:
 * - the request schemas of contract/schemas.ts never throw, and whatever they accept is storable in DynamoDB
 *   (an oracle written independently of the schemas' own free-form check);
 * - raw HTTP against a local registry (local mode in process: DynamoDB Local, the S3 stand-in, the real
 *   handlers): hostile paths, queries, cursors and bodies on every route are never answered 5xx, every error
 *   is in the error shape with the request's x-request-id, and no body carries a stack trace.
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../contract/errors.ts';
import { ROUTES } from '../../contract/routes.ts';
import * as schemas from '../../contract/schemas.ts';
import { startLocal, type LocalRegistry } from '../../local/server.ts';

const SCALE = Number(process.env.ARCA_FUZZ_SCALE ?? 1);
const SCHEMA_RUNS = 4000 * SCALE;
const HTTP_RUNS = 3000 * SCALE;
const SHA = 'a'.repeat(64);

// ---- generators ----

const deep = (levels: number, leaf: unknown): unknown => {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { k: v };
  return v;
};
/** Numbers DynamoDB cannot store, at and beyond its bounds, and the bounds themselves. */
const edgeNumber = fc.constantFrom(1e-200, 1e200, -1e-131, 1e126, 1e-130, 9.99e125, 1e20, -0, 2 ** 53 + 1, 5e-324, Number.MAX_VALUE);
const reservedKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ');
/** JSON values with the hostile parts mixed in: edge numbers, reserved keys, nesting around DynamoDB's 32 levels. */
const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 3 }),
    edgeNumber,
    fc.integer({ min: 25, max: 40 }).map((n) => deep(n, 1)),
    fc.dictionary(fc.oneof(reservedKey, fc.string({ maxLength: 8 })), tie('v'), { maxKeys: 4 }),
    fc.array(tie('v'), { maxLength: 4 }),
  ),
})).v;
/** Objects with a schema's own field names (so fuzzing reaches past the first check) and hostile values. */
const fieldsOf = (names: string[]) =>
  fc.dictionary(fc.oneof(fc.constantFrom(...names), reservedKey), fc.oneof(hostileJson, validish), { maxKeys: names.length + 1 });
const validish: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('fz/a', 'model', '1.0.0', 'prod', SHA, 'https://example.com/h', 'Asset Created'),
  fc.constant([{ path: 'm.bin', size: 1, sha256: SHA }]),
  fc.record({ path: fc.string({ maxLength: 12 }), size: fc.oneof(fc.integer(), edgeNumber), sha256: fc.constantFrom(SHA, 'x') }).map((f) => [f]),
);
const FIELDS = [
  'name', 'type', 'description', 'tags', 'capPolicy', 'version', 'bump', 'files', 'records', 'params', 'hyperparameters',
  'config', 'metrics', 'from', 'url', 'events', 'limit', 'cursor', 'prefix', 'q', 'tag', 'sort', 'order', 'status',
  'paramsHash', 'includeDeleted', 'force', 'reason', 'stage',
];
/** A base64url cursor of an object with table key names and wrong-typed, empty or long values, or garbage. */
const cursorArb = fc.oneof(
  fc.dictionary(
    fc.constantFrom('listPk', 'name', 'updatedKey', 'asset', 'vkey', 'liveAsset', 'stableAsset', 'paramsHash', 'alias', 'id', 'hookId', 'sk'),
    fc.oneof(fc.constantFrom('all', '', 'fz/a', 'x'.repeat(3000)), fc.string(), fc.integer(), fc.constant(null), fc.object({ maxDepth: 1 })),
    { maxKeys: 4 },
  ).map((o) => Buffer.from(JSON.stringify(o)).toString('base64url')),
  fc.string(),
);
const queryValue = fc.oneof(fc.string({ maxLength: 20 }), cursorArb, fc.constantFrom('', 'true', 'false', '0', '-1', '1e200', '101', 'name', 'updated', 'desc', 'model', SHA));
const pathParam = fc.oneof(
  fc.constantFrom('fz/a', 'fz/b', 'fz', '1.0.0', '2.0.0', 'latest', 'prod', 'a'.repeat(32), 'm.bin', 'fz/a:', 'fz/a:^1', 'fz/a:1.0.0/m.bin', 'a\\b', '..', '%ZZ'),
  fc.string({ maxLength: 30 }),
);
const encode = (s: string) => (s === '%ZZ' ? s : s.split('/').map(encodeURIComponent).join('/'));
const request = fc.record({
  route: fc.constantFrom(...ROUTES),
  params: fc.array(pathParam, { minLength: 4, maxLength: 4 }),
  query: fc.dictionary(fc.constantFrom(...FIELDS), queryValue, { maxKeys: 4 }),
  body: fc.oneof(
    fieldsOf(FIELDS).map((o) => JSON.stringify(o)),
    hostileJson.map((v) => JSON.stringify(v) ?? 'null'),
    fc.string({ maxLength: 40 }),
    fc.constantFrom('', '{', '{"__proto__":{"x":1}}', `{"name":"fz/n","type":"model","description":${JSON.stringify('\ud800')}}`),
    fc.integer({ min: 1000, max: 60_000 }).map((n) => `{"files":[{"path":"a","size":1,"sha256":"${SHA}"}],"config":${'['.repeat(n)}${']'.repeat(n)}}`),
  ),
});

// ---- an independent oracle: what DynamoDB can store ----

function storable(v: unknown, depth = 1): boolean {
  if (typeof v === 'number') return Number.isFinite(v) && (v === 0 || (Math.abs(v) >= 1e-130 && Math.abs(v) < 1e126));
  if (v === null || typeof v !== 'object') return true;
  if (depth > 32) return false;
  return Object.entries(v).every(([k, c]) => !['__proto__', 'constructor', 'prototype'].includes(k) && storable(c, depth + 1));
}

describe('request schemas (fast-check)', () => {
  const bodies = Object.entries(schemas).filter(([, s]) => s instanceof Object && 'safeParse' in s) as [string, { safeParse(v: unknown): { success: boolean; data?: unknown } }][];

  it(`${SCHEMA_RUNS} hostile inputs: no schema throws, and what one accepts is storable`, () => {
    expect(bodies.length).toBeGreaterThan(10);
    let accepted = 0;
    fc.assert(
      fc.property(fc.constantFrom(...bodies), fc.oneof(fieldsOf(FIELDS), hostileJson), ([, schema], input) => {
        const out = schema.safeParse(input);
        if (!out.success) return;
        accepted++;
        expect(JSON.stringify(out.data) ?? '').toBeTypeOf('string');
        expect(storable(out.data)).toBe(true);
      }),
      { numRuns: SCHEMA_RUNS },
    );
    // The generator reaches past the first check often enough to mean something.
    expect(accepted).toBeGreaterThan(SCHEMA_RUNS / 50);
  });

  it.each([
    ['hyperparameters', { hyperparameters: deep(31, 1) }],
    ['config', { config: { n: 1e200 } }],
    ['metrics', { metrics: { n: 1e-200 } }],
    ['params', { params: JSON.parse('{"__proto__":{}}') }],
  ])('the one free-form layer refuses %s that DynamoDB could not store', (_field, body) => {
    expect(schemas.UpdateVersionRequest.safeParse(body).success || schemas.CreateVersionRequest.safeParse({ ...body, files: [{ path: 'a', size: 1, sha256: SHA }] }).success).toBe(false);
  });
});

describe('raw HTTP against a local registry (fast-check)', () => {
  let registry: LocalRegistry;
  let work: string;
  const failures: string[] = [];
  const tally = { cases: 0, status5xx: 0 };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'arca-fuzz-'));
    registry = await startLocal({ dataDir: work, port: 0, inMemory: true, onError: (e) => failures.push(String(e)) });
    const seed = (method: string, path: string, body: unknown) => send(method, path, JSON.stringify(body));
    await seed('POST', '/v1/assets', { name: 'fz/a', type: 'model' });
    await seed('POST', '/v1/assets/fz/a/-/versions', { version: '1.0.0', files: [{ path: 'm.bin', size: 1, sha256: SHA }] });
  });
  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    process.stdout.write(`fuzz figures: ${JSON.stringify(tally)}\n`);
  });

  function send(method: string, path: string, body: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
    const url = new URL(registry.url);
    // Node's client frames no body of a DELETE by itself: the length is given, or the bytes would be read as another request.
    const payload = method === 'GET' ? undefined : body;
    return new Promise((resolve, reject) => {
      const req = http.request(
        // One connection per case: a case's verdict must not depend on what an earlier one left on a shared socket.
        { host: url.hostname, port: url.port, method, path, agent: false, headers: { authorization: `Bearer ${registry.token}`, 'content-type': 'application/json', ...(payload === undefined ? {} : { 'content-length': Buffer.byteLength(payload) }) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  it(`${HTTP_RUNS} hostile requests on every route: never a 5xx, errors in the error shape with x-request-id, no stack trace`, async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ route, params, query, body }) => {
        let i = 0;
        const path = route.path.replace(/\{[a-zA-Z]+\}/g, () => encode(params[i++] ?? ''));
        const qs = new URLSearchParams(query).toString();
        const res = await send(route.method, qs ? `${path}?${qs}` : path, body);
        tally.cases++;
        if (res.status >= 500) tally.status5xx++;
        const what = `${route.method} ${path}?${qs} ${body.slice(0, 200)} → ${res.status} ${res.text.slice(0, 300)}`;
        expect(res.status, what).toBeLessThan(500);
        expect(String(res.headers['x-request-id']), what).toMatch(/^[0-9a-f-]{36}$/);
        expect(res.text, what).not.toMatch(/\n\s+at |\.ts:\d+|node_modules/);
        if (res.status >= 400) {
          const parsed = JSON.parse(res.text) as { error: { code: string; message: string; requestId: string } };
          expect(ERROR_CODES, what).toContain(parsed.error.code);
          expect(parsed.error.message, what).toBeTypeOf('string');
          expect(parsed.error.requestId, what).toBe(res.headers['x-request-id']);
        }
      }),
      { numRuns: HTTP_RUNS },
    );
    expect(failures).toEqual([]);
    // About 80 cases a second on the shared 2-CPU machine: the default 60 s is sized for SCALE 1 only.
  }, 90_000 * SCALE);
});
