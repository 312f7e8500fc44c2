/**
 * The package as a user gets it (issue 12): `npm pack` (which builds dist/ through `prepack`), the tarball
 * installed into an empty folder, then `arca --version`, `arca push` and `arca pull` run from there against the
 * local registry, on Node 24 and on the system's Node 20. The push includes a file above one part, so the
 * bundled hash worker (dist/hashWorker.js, loaded by path) runs too.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '../../functions/domain/files.ts';
import { arca } from './api.ts';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../..');
const SYSTEM_NODE = '/usr/bin/node';

const NODES: [string, string][] = [
  ['Node 24 (the devDependency)', process.execPath],
  ['Node 20 (the system node)', SYSTEM_NODE],
];

describe('the npm package installed outside the repository', () => {
  let dir = '';
  let installed = '';
  let bin = '';
  let data = '';
  const big = { name: 'weights.bin', sha256: '', size: MIN_PART_SIZE + 1024 };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'arca-pack-'));
    const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: REPO, timeout: 120_000 });
    const tarball = path.join(dir, stdout.trim().split('\n').pop()!);
    installed = path.join(dir, 'app');
    await mkdir(installed);
    await writeFile(path.join(installed, 'package.json'), '{"name":"app","private":true}\n');
    // Offline: the package needs nothing from the registry, which is the point.
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: installed, timeout: 120_000 });
    bin = path.join(installed, 'node_modules', '.bin', 'arca');

    data = path.join(dir, 'model');
    await mkdir(data);
    await writeFile(path.join(data, 'config.json'), `{"run":"${randomBytes(8).toString('hex')}"}\n`);
    // Above one part: random head, sparse tail (fast to write, still hashed in full).
    const head = randomBytes(1024);
    const f = await open(path.join(data, big.name), 'w');
    await f.write(head, 0, head.length, 0);
    await f.truncate(big.size);
    await f.close();
    big.sha256 = createHash('sha256').update(await readFile(path.join(data, big.name))).digest('hex');
  }, 300_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('installs no dependency and ships the bundle, not the TypeScript sources', async () => {
    expect((await readdir(path.join(installed, 'node_modules'))).filter((n) => !n.startsWith('.'))).toEqual(['arca']);
    const pkg = path.join(installed, 'node_modules', 'arca');
    expect(existsSync(path.join(pkg, 'dist', 'cli.js'))).toBe(true);
    expect(existsSync(path.join(pkg, 'dist', 'hashWorker.js'))).toBe(true);
    expect(existsSync(path.join(pkg, 'dist', 'types', 'client', 'index.d.ts'))).toBe(true);
    expect(existsSync(path.join(pkg, 'client', 'cli', 'main.ts'))).toBe(false);
    expect(existsSync(path.join(pkg, 'functions'))).toBe(false);
  });

  it.each(NODES)('on %s: arca --version, push and pull work from the install', async (_label, node) => {
    const { url, token } = arca();
    const { stdout: nodeVersion } = await run(node, ['--version']);
    expect(nodeVersion).toMatch(node === SYSTEM_NODE ? /^v20\./ : /^v24\./);

    const home = await mkdtemp(path.join(dir, 'home-'));
    const env = { PATH: `${path.dirname(node)}:/usr/bin:/bin`, HOME: home, ARCA_URL: url, ARCA_TOKEN: token, ARCA_CACHE_DIR: path.join(home, 'cache') };
    const arcaCli = (...args: string[]) => run(node, [bin, ...args], { cwd: installed, env, timeout: 120_000 });

    expect((await arcaCli('--version')).stdout.trim()).toBe(JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')).version);

    const asset = `pack/model-${nodeVersion.trim().replaceAll('.', '-')}-${process.pid}-${Date.now()}`;
    const pushed = JSON.parse((await arcaCli('push', asset, data, '--json')).stdout) as { version: { version: string; status: string; files: { path: string; sha256: string }[] } };
    expect(pushed.version.status).toBe('ready');
    expect(pushed.version.files.find((f) => f.path.endsWith(big.name))?.sha256).toBe(big.sha256);

    const out = path.join(home, 'out');
    const { stdout: pulled } = await arcaCli('pull', `${asset}:${pushed.version.version}`, '-o', out);
    expect(pulled).toMatch(/2 files/);
    const names = await readdir(out, { recursive: true });
    const bigPath = names.find((n) => n.endsWith(big.name));
    expect(bigPath).toBeDefined();
    expect(createHash('sha256').update(await readFile(path.join(out, bigPath!))).digest('hex')).toBe(big.sha256);
  });
});
