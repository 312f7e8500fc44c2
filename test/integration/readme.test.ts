/**
 * The README's first screen, run as a newcomer would: the `npx arca` block, verbatim but for the registry's URL
 * and token file, in an empty folder with its own config and cache, against the local registry; and its console URL.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { arca, call } from './api.ts';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../..');

/** The shell blocks of the README, in order. */
async function readmeShellBlocks(): Promise<string[]> {
  const readme = await readFile(path.join(REPO, 'README.md'), 'utf8');
  return [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

describe("the README's first screen", () => {
  let dir = '';
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('names npm start and npm test first, then logs in, pushes and pulls with npx arca', async () => {
    const [start, cli] = await readmeShellBlocks();
    expect(start).toMatch(/^npm ci && npm start/m);
    expect(start).toMatch(/^npm ci && npm test/m);
    const commands = (cli ?? '').split('\n').map((line) => line.replace(/\s+#.*$/, '').trim()).filter(Boolean);
    expect(commands.map((c) => c.split(' ').slice(0, 3).join(' '))).toEqual(['npx arca login', 'npx arca push', 'npx arca pull']);

    const { url, token } = arca();
    dir = await mkdtemp(path.join(tmpdir(), 'arca-readme-'));
    await mkdir(path.join(dir, '.arca'));
    await writeFile(path.join(dir, '.arca', 'token'), token);
    await mkdir(path.join(dir, 'model_dir'));
    const weights = `weights of a README run ${Date.now()}\n`;
    await writeFile(path.join(dir, 'model_dir', 'model.pkl'), weights);
    // A unique asset per run: the integration registry is shared by every test file.
    const asset = `readme/iris-${process.pid}-${Date.now()}`;
    const env = { ...process.env, ARCA_CONFIG: path.join(dir, 'config.json'), ARCA_CACHE_DIR: path.join(dir, 'cache') };
    for (const command of commands) {
      // `--prefix` runs this clone's `arca` from the empty folder, as `npx arca` does inside the clone.
      const line = command.replaceAll('http://localhost:4100', url).replaceAll('demo/iris', asset).replace(/^npx arca/, `npx --prefix ${REPO} arca`);
      await run('bash', ['-c', line], { cwd: dir, env, timeout: 120_000 });
    }

    expect(await readFile(path.join(dir, 'model', 'model.pkl'), 'utf8')).toBe(weights);
    const aliases = await call<{ items: { alias: string; version: string }[] }>('GET', `/v1/assets/${asset}/-/aliases`);
    expect(aliases.body.items).toEqual([expect.objectContaining({ alias: 'production', version: '1.0.0' })]);
  });

  it('gives a console URL that serves the console', async () => {
    const readme = await readFile(path.join(REPO, 'README.md'), 'utf8');
    const consoleUrl = /The console is at <(http:\/\/localhost:4100\/[^>]*)>/.exec(readme)?.[1];
    expect(consoleUrl).toBeDefined();
    const page = await fetch(consoleUrl!.replace('http://localhost:4100', arca().url));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<title>Arca console</title>');
  });
});
