/**
 * R-ERR over HTTP against local mode: every error has the spec's shape and status, never a 500.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { VersionRecord } from '../../contract/schemas.ts';
import { call, createAsset, createVersion, expectError, pushVersion, uniqueName } from './api.ts';

const name = uniqueName('errors');
const file = (tag: string) => [{ path: 'model.bin', bytes: Buffer.from(`${name} ${tag}`) }];

beforeAll(async () => {
  await createAsset(name);
});

describe('400 ValidationError', () => {
  it.each(['Upper', '-', 'a/../b', 'a//b', 'a/-/b', 'x'.repeat(65), `${'a/'.repeat(10)}a`, 'trailing-'])('refuses the asset name %j', async (bad) => {
    expectError(await call('POST', '/v1/assets', { json: { name: bad, type: 'model' } }), 400, 'ValidationError');
  });

  it('refuses an unknown type, an unknown field and malformed JSON', async () => {
    expectError(await call('POST', '/v1/assets', { json: { name: uniqueName('t'), type: 'spreadsheet' } }), 400, 'ValidationError');
    expectError(await call('POST', '/v1/assets', { json: { name: uniqueName('t'), type: 'model', owner: 'me' } }), 400, 'ValidationError');
    expectError(await call('POST', '/v1/assets', { raw: '{"name":', headers: { 'content-type': 'application/json' } }), 400, 'ValidationError');
  });

  it.each(['1.2.3+build.5', 'v1', '1', '01.2.3', 'latest', '1.2.3.4'])('refuses the version %j', async (version) => {
    expectError(await createVersion(name, file(version), { version }), 400, 'ValidationError');
  });

  it.each([':@@', ':1.2.3.4.5', ':>=>=1', ':Upper'])('refuses the malformed spec NAME%s', async (selector) => {
    expectError(await call('GET', `/v1/resolve/${name}${encodeURIComponent(selector)}`), 400, 'ValidationError');
  });

  it('refuses a spec whose name is not an asset name', async () => {
    expectError(await call('GET', '/v1/resolve/Not_A_Name:1'), 400, 'ValidationError');
  });

  it('refuses a file path that escapes the version', async () => {
    const res = await call('POST', `/v1/assets/${name}/-/versions`, { json: { files: [{ path: '../etc/passwd', size: 1, sha256: 'a'.repeat(64) }] } });
    expectError(res, 400, 'ValidationError');
  });
});

describe('401, 404, 413', () => {
  it('answers 401 without a token or with a wrong one, on reads and writes', async () => {
    expectError(await call('GET', '/v1/assets', { token: null }), 401, 'Unauthorized');
    expectError(await call('GET', `/v1/assets/${name}`, { token: 'not-the-token' }), 401, 'Unauthorized');
    expectError(await call('POST', '/v1/assets', { token: null, json: { name: uniqueName('t'), type: 'model' } }), 401, 'Unauthorized');
  });

  it('answers 404 for unknown assets, versions, aliases, files, specs and routes', async () => {
    expectError(await call('GET', `/v1/assets/${name}-missing`), 404, 'NotFound');
    expectError(await call('GET', `/v1/assets/${name}/-/versions/9.9.9`), 404, 'NotFound');
    expectError(await call('DELETE', `/v1/assets/${name}/-/aliases/nope`), 404, 'NotFound');
    expectError(await call('GET', `/v1/assets/${name}/-/versions/9.9.9/files/model.bin`), 404, 'NotFound');
    const spec = `${name}:42`;
    const missing = expectError(await call('GET', `/v1/resolve/${spec}`), 404, 'NotFound');
    expect(JSON.stringify(missing)).toContain(spec);
    expectError(await call('GET', '/v1/nothing-here'), 404, 'NotFound');
  });

  it('answers 413 to a body over 1 MiB, and to one over the local gateway cap', async () => {
    const description = 'x'.repeat(1024 * 1024 + 10);
    expectError(await call('POST', '/v1/assets', { json: { name: uniqueName('big'), type: 'model', description } }), 413, 'PayloadTooLarge');
    expectError(await call('POST', '/v1/assets', { raw: 'y'.repeat(3 * 1024 * 1024), headers: { 'content-type': 'application/json' } }), 413, 'PayloadTooLarge');
  });
});

describe('409 state conflicts', () => {
  it('refuses to publish a pending version (VersionNotReady)', async () => {
    const created = await createVersion(name, file('pending'), { version: '0.1.0' });
    expect(created.status, created.text).toBe(201);
    expectError(await call('POST', `/v1/assets/${name}/-/versions/0.1.0/publish`), 409, 'VersionNotReady');
  });

  it('freezes a published version (VersionPublished), and publishing again returns the same record', async () => {
    await pushVersion(name, file('published'), { version: '1.0.0' });
    const first = await call<VersionRecord>('POST', `/v1/assets/${name}/-/versions/1.0.0/publish`);
    expect(first.status, first.text).toBe(200);
    const again = await call<VersionRecord>('POST', `/v1/assets/${name}/-/versions/1.0.0/publish`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);

    expectError(await call('PATCH', `/v1/assets/${name}/-/versions/1.0.0`, { json: { description: 'changed' } }), 409, 'VersionPublished');
    const add = await call('POST', `/v1/assets/${name}/-/versions/1.0.0/files`, {
      json: { files: [{ path: 'model.onnx', size: 1, sha256: 'b'.repeat(64) }] },
    });
    expectError(add, 409, 'VersionPublished');
  });

  it('refuses to delete a version an alias points to (AliasInUse, naming the alias)', async () => {
    await pushVersion(name, file('aliased'), { version: '1.1.0' });
    expect((await call('PUT', `/v1/assets/${name}/-/aliases/staging`, { json: { version: '1.1.0' } })).status).toBe(200);
    const error = expectError(await call('DELETE', `/v1/assets/${name}/-/versions/1.1.0`), 409, 'AliasInUse');
    expect(JSON.stringify(error)).toContain('staging');
  });

  it('never reuses a deleted version string (AlreadyExists)', async () => {
    await pushVersion(name, file('deleted'), { version: '2.0.0' });
    const deleted = await call('DELETE', `/v1/assets/${name}/-/versions/2.0.0`);
    expect(deleted.status, deleted.text).toBeLessThan(300);
    expectError(await createVersion(name, file('deleted again'), { version: '2.0.0' }), 409, 'AlreadyExists');
    expectError(await createVersion(name, file('deleted again'), { version: '2.0' }), 409, 'AlreadyExists');
  });

  it('refuses an alias to a pending version, and an alias named like a range or latest', async () => {
    expectError(await call('PUT', `/v1/assets/${name}/-/aliases/early`, { json: { version: '0.1.0' } }), 409, 'VersionNotReady');
    expectError(await call('PUT', `/v1/assets/${name}/-/aliases/latest`, { json: { version: '1.0.0' } }), 400, 'ValidationError');
    expectError(await call('PUT', `/v1/assets/${name}/-/aliases/x`, { json: { version: '1.0.0' } }), 400, 'ValidationError');
  });
});
