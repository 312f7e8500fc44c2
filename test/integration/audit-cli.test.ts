/**
 * `arca audit` and `arca alias --history` against the local registry (local mode, the admin token):
 * the CLI and the SDK read the trail of a pushed version, an alias's moves, and the trail of a deleted asset.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ArcaClient } from '../../client/client.ts';
import { arca, call, pushVersion, uniqueName } from './api.ts';

const BIN = join(import.meta.dirname, '..', '..', 'client', 'cli', 'arca.js');

async function cli(args: string[]): Promise<string> {
  const { url, token } = arca();
  const { stdout } = await promisify(execFile)(process.execPath, [BIN, '--url', url, '--token', token, ...args], {
    env: { PATH: process.env.PATH, HOME: '/nonexistent', ARCA_CONFIG: '/nonexistent/config.json' },
  });
  return stdout;
}

describe('audit from the CLI and the SDK (local registry)', () => {
  it("lists an asset's trail and an alias's history, and still the trail once the asset is deleted", async () => {
    const name = uniqueName('audit');
    await call('POST', '/v1/assets', { json: { name, type: 'model' } });
    await pushVersion(name, [{ path: 'a.txt', bytes: Buffer.from('one') }], { version: '1.0.0' });
    await pushVersion(name, [{ path: 'a.txt', bytes: Buffer.from('two') }], { version: '1.1.0' });
    await call('PUT', `/v1/assets/${name}/-/aliases/prod`, { json: { version: '1.0.0' } });
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await call('PUT', `/v1/assets/${name}/-/aliases/prod`, { json: { version: '1.1.0' } });

    const trail = JSON.parse(await cli(['audit', '--asset', name, '--json'])) as { items: { action: string; actor: string }[] };
    expect(trail.items.map((e) => e.action)).toEqual(['alias.move', 'alias.move', 'version.create', 'version.create', 'asset.create']);
    expect(new Set(trail.items.map((e) => e.actor)).size).toBe(1);

    const table = await cli(['audit', '--asset', name]);
    expect(table).toMatch(/alias\.move .*1\.0\.0 → 1\.1\.0/);

    const at = JSON.parse(await cli(['alias', name, 'prod', '--history', '--at', between, '--json'])) as { items: { to: string }[] };
    expect(at.items).toEqual([expect.objectContaining({ action: 'alias.move', to: '1.0.0' })]);

    expect((await call('DELETE', `/v1/assets/${name}?force=true&reason=${encodeURIComponent('end of trial')}`)).status).toBe(204);
    const client = new ArcaClient({ url: arca().url, token: arca().token });
    const after = await client.audit({ asset: name, limit: 2 });
    expect(after.items.map((e) => [e.action, e.reason]).sort()).toEqual([
      ['alias.delete', 'end of trial'],
      ['asset.delete', 'end of trial'],
    ]);
    expect(after.nextCursor).toBeDefined();
    const history = await client.aliasHistory(name, 'prod');
    expect(history.items.map((e) => e.action)).toEqual(['alias.delete', 'alias.move', 'alias.move']);
  });
});
