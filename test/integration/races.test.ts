/**
 * Concurrency against real DynamoDB Local over HTTP: the version cap (R-CAP), version strings used once
 * (R-VER), and alias moves (R-ALIAS) hold under simultaneous requests.
 */
import { describe, expect, it } from 'vitest';
import type { AliasRecord, Page, VersionRecord } from '../../contract/schemas.ts';
import { call, createAsset, createVersion, expectError, pushVersion, uniqueName, type ApiResponse } from './api.ts';

const file = (name: string, tag: string) => [{ path: 'model.bin', bytes: Buffer.from(`${name} ${tag}`) }];

async function listVersions(name: string): Promise<VersionRecord[]> {
  const res = await call<Page<VersionRecord>>('GET', `/v1/assets/${name}/-/versions?limit=100`);
  expect(res.status, res.text).toBe(200);
  expect(res.body.nextCursor).toBeUndefined();
  return res.body.items;
}

const codes = (results: ApiResponse<unknown>[]) =>
  results.map((r) => (r.status === 201 ? 201 : `${r.status} ${(r.body as { error?: { code?: string } })?.error?.code}`));

describe('races', () => {
  async function assetWithLiveVersions(prefix: string, count: number): Promise<string> {
    const name = uniqueName(prefix);
    await createAsset(name);
    for (let i = 0; i < count; i++) {
      const res = await createVersion(name, file(name, `seed ${i}`), { bump: 'patch' });
      expect(res.status, res.text).toBe(201);
    }
    return name;
  }

  async function expectCapHeld(name: string, results: ApiResponse<unknown>[]): Promise<void> {
    const tally = codes(results);
    expect(tally.filter((c) => c === 201), JSON.stringify(tally)).toHaveLength(5);
    expect(tally.filter((c) => c === '409 VersionCapReached'), JSON.stringify(tally)).toHaveLength(35);
    const refused = results.find((r) => r.status === 409)!;
    expect(expectError(refused, 409, 'VersionCapReached').message).toMatch(/30/);

    const live = (await listVersions(name)).filter((v) => v.status !== 'deleted');
    expect(live).toHaveLength(30);
    expect(new Set(live.map((v) => v.version)).size).toBe(30);
    const winners = results.filter((r) => r.status === 201).map((r) => (r.body as VersionRecord).version);
    expect(new Set(winners).size).toBe(5);
    expect(live.map((v) => v.version)).toEqual(expect.arrayContaining(winners));
    const asset = await call<{ liveVersions: number }>('GET', `/v1/assets/${name}`);
    expect(asset.body.liveVersions).toBe(30);
  }

  it('40 concurrent creates of distinct explicit versions on an asset with 25 live: exactly 5 succeed, 35 VersionCapReached, 30 live', async () => {
    const name = await assetWithLiveVersions('cap-explicit', 25);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => createVersion(name, file(name, `race ${i}`), { version: `${100 + i}.0.0` })));
    await expectCapHeld(name, results);
  });

  it('40 concurrent bumped creates on an asset with 25 live: exactly 5 succeed with distinct versions, 35 VersionCapReached, 30 live', async () => {
    // No version given: a create that loses a bump race must bump again, never answer AlreadyExists.
    const name = await assetWithLiveVersions('cap-bump', 25);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => createVersion(name, file(name, `race ${i}`))));
    await expectCapHeld(name, results);
  });

  it('10 concurrent creates of the same explicit version: exactly one 201, nine AlreadyExists', async () => {
    const name = uniqueName('same');
    await createAsset(name);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => createVersion(name, file(name, `same ${i}`), { version: '3.1.4' })));
    const tally = codes(results);
    expect(tally.filter((c) => c === 201)).toHaveLength(1);
    expect(tally.filter((c) => c === '409 AlreadyExists')).toHaveLength(9);
    for (const r of results.filter((x) => x.status !== 201)) expectError(r, 409, 'AlreadyExists');
    const versions = await listVersions(name);
    expect(versions.map((v) => v.version)).toEqual(['3.1.4']);
  });

  it('concurrent alias moves leave the alias on an existing version whose aliases contain it, and only there', async () => {
    const name = uniqueName('alias');
    await createAsset(name);
    const versions = ['1.0.0', '1.1.0', '1.2.0', '2.0.0', '2.1.0'];
    for (const version of versions) await pushVersion(name, file(name, version), { version });

    const moves = Array.from({ length: 25 }, (_, i) => versions[i % versions.length]!);
    const results = await Promise.all(moves.map((version) => call<AliasRecord>('PUT', `/v1/assets/${name}/-/aliases/champion`, { json: { version } })));
    expect(results.map((r) => r.status)).toEqual(moves.map(() => 200));

    const aliases = await call<Page<AliasRecord>>('GET', `/v1/assets/${name}/-/aliases`);
    expect(aliases.body.items).toHaveLength(1);
    const target = aliases.body.items[0]!;
    expect(target.alias).toBe('champion');
    expect(versions).toContain(target.version);

    for (const version of versions) {
      const v = await call<VersionRecord>('GET', `/v1/assets/${name}/-/versions/${version}`);
      expect({ version, has: v.body.aliases.includes('champion') }).toEqual({ version, has: version === target.version });
    }
    const resolved = await call<{ version: string }>('GET', `/v1/resolve/${name}:champion`);
    expect(resolved.body.version).toBe(target.version);
  });
});
