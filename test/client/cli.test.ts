import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../client/cli/main.ts';
import { ArcaClient } from '../../client/client.ts';
import { startFakeStore, type FakeStore } from './fakeStore.ts';

const BIN = join(import.meta.dirname, '..', '..', 'client', 'cli', 'arca.js');
let store: FakeStore;
let dir: string;

async function arca(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, HOME: dir, ARCA_CONFIG: join(dir, 'config.json'), ARCA_CACHE_DIR: join(dir, 'cache'), ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  store = await startFakeStore('demo/model', '1.0.0', [{ path: 'a.txt', bytes: Buffer.from('A') }]);
  dir = await mkdtemp(join(tmpdir(), 'arca-cli-'));
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('arca CLI', () => {
  it('prints its version', async () => {
    expect(await arca(['--version'])).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  });

  it('gives push its own --version (the CLI version is only `arca --version`)', async () => {
    const program = buildProgram();
    const push = program.commands.find((c) => c.name() === 'push')!;
    let seen: unknown;
    push.action(function (this: Command) {
      seen = { args: this.args, opts: this.opts() };
    });
    await program.parseAsync(['node', 'arca', 'push', 'fraud/xgb', 'model.pkl', '--version', '2.0.0', '--json']);
    expect(seen).toEqual({ args: ['fraud/xgb', 'model.pkl'], opts: { version: '2.0.0', type: 'model' } });
  });

  it("prints the service's error code and message and exits non-zero", async () => {
    const r = await arca(['--url', store.url, '--token', 't', 'info', 'no/such']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^arca: NotFound: no route \/v1\/assets\/no\/such \(request req-1\)\n$/);
  });

  it('--json prints the error as JSON', async () => {
    const r = await arca(['--url', store.url, '--token', 't', 'info', 'no/such', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'NotFound', message: 'no route /v1/assets/no/such', requestId: 'req-1' } });
  });

  it('login checks the token, saves it owner-only, and later commands use it', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'wrong\n');
    const bad = await arca(['login', '--url', store.url, '--token-file', tokenFile]);
    expect(bad).toMatchObject({ code: 1, stderr: 'arca: Unauthorized: bad token (request req-2)\n' });
    await expect(stat(join(dir, 'config.json'))).rejects.toThrow(/ENOENT/);

    await writeFile(tokenFile, 't\n');
    const ok = await arca(['login', '--url', store.url, '--token-file', tokenFile]);
    expect(ok).toMatchObject({ code: 0, stdout: `Logged in to ${store.url} (bearer token); saved to ${join(dir, 'config.json')}\n` });
    expect(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'))).toEqual({ url: store.url, auth: 'token', token: 't' });
    expect((await stat(join(dir, 'config.json'))).mode & 0o777).toBe(0o600);
    expect(await arca(['ls'])).toMatchObject({ code: 0, stdout: '(none)\n' });
    await rm(join(dir, 'config.json'));
  });

  it('says how to configure when nothing is configured', async () => {
    const r = await arca(['ls']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ClientError: no registry URL: pass --url, set ARCA_URL, or run "arca login --url URL"/);
  });

  it('takes the URL and token from the environment, and --json output is machine-readable', async () => {
    const r = await arca(['resolve', 'demo/model:1', '--json'], { ARCA_URL: store.url, ARCA_TOKEN: 't' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ asset: 'demo/model', version: '1.0.0', files: [{ path: 'a.txt', size: 1 }] });
  });

  it('pull -o writes the files and cache ls lists the blob', async () => {
    const out = join(dir, 'out');
    const r = await arca(['pull', 'demo/model:1.0.0', '-o', out], { ARCA_URL: store.url, ARCA_TOKEN: 't' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^demo\/model:1\.0\.0 — 1 file, downloaded 1 B, 0 from cache/);
    expect(await readFile(join(out, 'a.txt'), 'utf8')).toBe('A');
    const ls = JSON.parse((await arca(['cache', 'ls', '--json'])).stdout) as { bytes: number; blobs: unknown[] };
    expect(ls).toMatchObject({ bytes: 1, blobs: [{ size: 1 }] });
    expect((await arca(['cache', 'ls'])).stdout).toMatch(/^1 blob, 1 B in /m);
  });

  it('pull loads the pull path alone: no schema library, no whole node-semver, no push, resume or parameter-hash code', async () => {
    const list = join(dir, 'loaded.txt');
    const r = await arca(['pull', 'demo/model:1.0.0', '-o', join(dir, 'out-lean'), '--cache-dir', join(dir, 'cache-lean')], {
      ARCA_URL: store.url,
      ARCA_TOKEN: 't',
      NODE_OPTIONS: `--import=${join(import.meta.dirname, '..', 'fixtures', 'loadedModules.ts')}`,
      ARCA_TEST_LOADED_MODULES: list,
    });
    expect(r.code).toBe(0);
    const loaded = (await readFile(list, 'utf8')).split('\n');
    expect(loaded).toContainEqual(expect.stringMatching(/\/client\/landing\.ts$/));
    const avoidable = loaded.filter((u) => /\/node_modules\/(zod|canonicalize)\/|\/node_modules\/semver\/index\.js$|\/client\/(push|resume|digests|outputs|loadOrGenerate)\.ts$|\/contract\/(readSchemas|schemas|zod)\.ts$/.test(u));
    expect(avoidable).toEqual([]);
  });
});

describe('arca CLI messages', () => {
  it('says at once that a stopped registry is not reachable and how to start it', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await arca(['ls', '--url', `http://localhost:${port}`, '--token', 't']);
    expect(r).toMatchObject({
      code: 1,
      stderr: `arca: NetworkError: the registry is not reachable at http://localhost:${port} (connection refused); start it with \`npm start\` in the Arca clone, or check --url / ARCA_URL\n`,
    });
    // No retries for a refused connection (they would wait 0.4 + 0.8 + 1.6 s): a GET, which is retried otherwise.
    const client = new ArcaClient({ url: `http://127.0.0.1:${port}`, token: 't' });
    const started = performance.now();
    await expect(client.listAssets()).rejects.toMatchObject({ code: 'NetworkError', message: expect.stringContaining('not reachable') });
    expect(performance.now() - started).toBeLessThan(300);
  });

  it('refuses a URL without a scheme or with /v1, with the URL to give instead', async () => {
    expect((await arca(['ls', '--url', 'localhost:4100', '--token', 't'])).stderr).toBe(
      'arca: ClientError: registry URL "localhost:4100" has no http:// or https:// scheme: use http://localhost:4100\n',
    );
    expect((await arca(['login', '--url', `${store.url}/v1`, '--token', 't'])).stderr).toBe(
      `arca: ClientError: registry URL "${store.url}/v1" ends in /v1: give the registry's root, ${store.url} (the client adds /v1 itself)\n`,
    );
  });

  it('names the URL a saved token belongs to, and takes localhost and 127.0.0.1 for one registry', async () => {
    const config = join(dir, 'other.json');
    const port = new URL(store.url).port;
    await writeFile(config, JSON.stringify({ url: `http://localhost:${port}`, auth: 'token', token: 't' }));
    const same = await arca(['resolve', 'demo/model:1', '--json'], { ARCA_CONFIG: config, ARCA_URL: `http://127.0.0.1:${port}` });
    expect(same.code, same.stderr).toBe(0);
    const other = await arca(['ls'], { ARCA_CONFIG: config, ARCA_URL: 'http://127.0.0.1:1' });
    expect(other.stderr).toMatch(/^arca: ClientError: no token for http:\/\/127\.0\.0\.1:1: the login file's token was saved for http:\/\/localhost:\d+ and is only sent there/);
  });

  it('asks for --reason with --force before calling the registry', async () => {
    const before = store.requests.length;
    expect((await arca(['rm', 'demo/model', '1.0.0', '--force', '--url', store.url, '--token', 't'])).stderr).toBe(
      'arca: Error: --force needs --reason "why" (kept in the audit log)\n',
    );
    expect(store.requests.length).toBe(before);
  });
});
