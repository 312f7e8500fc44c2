/**
 * The SDK and CLI against a real local registry (DynamoDB Local, the S3 stand-in behind its verifying
 * front, the same handlers as AWS), started by this file so that a test can stop it (--offline).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcaClient } from '../../client/client.ts';
import { verifyWebhook } from '../../client/index.ts';
import { startLocal, type LocalRegistry } from '../../local/server.ts';
import { killOnceAPartLands, spawnCli } from '../fixtures/cli.ts';

const MIB = 1024 * 1024;

let registry: LocalRegistry | undefined;
let work: string;
let cacheDir: string;
let client: ArcaClient;

async function randomFile(path: string, size: number): Promise<string> {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(4 * MIB);
  for (let written = 0; written < size; written += chunk.length) {
    randomFillSync(chunk);
    writeSync(fd, chunk, 0, Math.min(chunk.length, size - written));
  }
  closeSync(fd);
  return fileSha(path);
}

async function fileSha(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

/** Relative path → SHA-256 of every file under `dir`. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[relative(dir, join(e.parentPath, e.name))] = await fileSha(join(e.parentPath, e.name));
  }
  return out;
}

function cli(args: string[], env: Record<string, string>) {
  return spawnCli(args, { PATH: process.env.PATH, HOME: work, ARCA_CONFIG: join(work, 'none.json'), ...env });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'arca-client-it-'));
  cacheDir = join(work, 'cache');
  registry = await startLocal({ dataDir: join(work, 'registry'), port: 0, inMemory: true });
  client = new ArcaClient({ url: registry.url, token: registry.token, cacheDir });
});

afterAll(async () => {
  client?.close();
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('push and pull against local mode', () => {
  let src: string;
  let expected: Record<string, string>;

  it('pushes a directory of mixed files, one above the multipart threshold, and pulls it back by name:^1 byte for byte', async () => {
    src = join(work, 'src');
    await mkdir(join(src, 'tokenizer'), { recursive: true });
    await writeFile(join(src, 'model.pkl'), Buffer.from('not really a pickle'));
    await writeFile(join(src, 'tokenizer', 'vocab.json'), JSON.stringify({ hello: 1, world: 2 }));
    await writeFile(join(src, 'tokenizer', 'merges.json'), ''); // empty files are files too
    await randomFile(join(src, 'weights.safetensors'), 70 * MIB);
    expected = await tree(src);

    const before = client.stats.bytesUploaded;
    const pushed = await client.push('it/mixed', [src], { description: 'integration', tags: ['it'] });
    expect(pushed.version).toMatchObject({ asset: 'it/mixed', version: '1.0.0', status: 'ready' });
    expect(pushed.version.files.map((f) => f.path).sort()).toEqual(Object.keys(expected).sort());
    const total = pushed.version.files.reduce((n, f) => n + f.size, 0);
    expect(client.stats.bytesUploaded - before).toBe(total);

    const out = join(work, 'out-1');
    const pulled = await client.pull('it/mixed:^1', { outDir: out });
    expect(pulled.version).toBe('1.0.0');
    expect(await tree(out)).toEqual(expected);
  });

  it('a second push of the same content uploads zero bytes', async () => {
    const before = client.stats.bytesUploaded;
    const again = await client.push('it/mixed', [src], { publish: true, alias: 'candidate' });
    expect(again.version).toMatchObject({ version: '1.1.0', status: 'published', aliases: ['candidate'] });
    expect(client.stats.bytesUploaded - before).toBe(0);
    expect(again.uploaded).toBe(0);
    expect(again.skipped).toBe(again.version.size);
  });

  it('publishes (again: a no-op) and aliases through the CLI, and resolve follows the alias', async () => {
    const env = { ARCA_URL: registry!.url, ARCA_TOKEN: registry!.token, ARCA_CACHE_DIR: cacheDir };
    const pub = await cli(['publish', 'it/mixed:1.1.0', '--json'], env).done;
    expect(pub.code, pub.stderr).toBe(0);
    expect(JSON.parse(pub.stdout)).toMatchObject({ version: '1.1.0', status: 'published' });
    const alias = await cli(['alias', 'it/mixed', 'champion', '1.1.0'], env).done;
    expect(alias).toMatchObject({ code: 0, stdout: 'it/mixed: champion → 1.1.0\n' });
    expect((await client.resolve('it/mixed:champion')).version).toBe('1.1.0');
    const info = JSON.parse((await cli(['info', 'it/mixed:champion', '--json'], env).done).stdout) as { version: string; aliases: string[] };
    expect(info).toMatchObject({ version: '1.1.0', status: 'published' });
    expect(info.aliases.sort()).toEqual(['candidate', 'champion']);
    const asset = JSON.parse((await cli(['info', 'it/mixed', '--json'], env).done).stdout) as { versions: { version: string }[] };
    expect(asset).toMatchObject({ name: 'it/mixed', liveVersions: 2 });
    expect(asset.versions.map((v) => v.version)).toEqual(['1.1.0', '1.0.0']);
  });

  it('a push killed after some parts resumes and completes, sending only the missing parts', { timeout: 180_000 }, async () => {
    const file = join(work, 'big.bin');
    const size = 2 * 64 * MIB + MIB;
    const sha = await randomFile(file, size);
    const stateFile = join(cacheDir, 'uploads', `${sha}.json`);
    const env = { ARCA_URL: registry!.url, ARCA_TOKEN: registry!.token, ARCA_CACHE_DIR: cacheDir };
    const interrupted = await killOnceAPartLands(cli(['push', 'it/resume', file, '--concurrency', '1'], env), stateFile);
    expect((await client.getVersion('it/resume', interrupted.version)).status).toBe('pending');

    const before = client.stats.bytesUploaded;
    const resumed = await client.push('it/resume', [file]);
    expect(resumed.resumed).toBe(true);
    expect(resumed.version).toMatchObject({ version: interrupted.version, status: 'ready' });
    const sent = client.stats.bytesUploaded - before;
    expect(sent).toBeLessThanOrEqual(size - interrupted.done.length * 64 * MIB);
    expect(resumed.skipped).toBeGreaterThanOrEqual(interrupted.done.length * 64 * MIB);
    await expect(readFile(stateFile)).rejects.toThrow(/ENOENT/);

    const out = join(work, 'out-resume');
    await client.pull(`it/resume:${resumed.version.version}`, { outDir: out });
    expect(await fileSha(join(out, 'big.bin'))).toBe(sha);
  });
});

/**
 * A proxy in front of the API that holds every commit until `release()`: the CLI waits on a commit the service
 * is still working on (its server-side verification), and can be interrupted right there.
 */
async function commitHoldingProxy(target: string): Promise<{ url: string; commitSeen: Promise<void>; release: () => void; close: () => Promise<void> }> {
  let seen!: () => void;
  const commitSeen = new Promise<void>((r) => (seen = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (req.method === 'POST' && req.url!.endsWith('/commit')) {
        seen();
        await released;
      }
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k))) as Record<string, string>;
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      const answer = await fetch(`${target}${req.url}`, { method: req.method, headers, body });
      const text = Buffer.from(await answer.arrayBuffer());
      if (!res.destroyed) res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    commitSeen,
    release,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

describe('push run again after an interruption', () => {
  it('Ctrl-C while the service verifies, then the same push again: reports the version the first push made, no second version', { timeout: 120_000 }, async () => {
    const asset = 'it/rerun';
    const file = join(work, 'rerun.bin');
    await writeFile(file, `weights ${Math.random()}`);
    const proxy = await commitHoldingProxy(registry!.url);
    const env = { ARCA_URL: proxy.url, ARCA_TOKEN: registry!.token, ARCA_CACHE_DIR: cacheDir };
    const first = cli(['push', asset, file, '--json'], env);
    await proxy.commitSeen;
    first.child.kill('SIGINT');
    expect((await first.done).code).not.toBe(0);
    // The held commit reaches the service, which finishes the version with nobody waiting (in local mode the
    // S3 ObjectCreated job may have made it ready already).
    proxy.release();
    await expect.poll(async () => (await client.getVersion(asset, '1.0.0')).status, { timeout: 30_000 }).toBe('ready');

    // The same command again (through the proxy, which now lets commits through).
    const again = await cli(['push', asset, file, '--json'], env).done;
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ version: { asset, version: '1.0.0', status: 'ready' }, resumed: true, uploaded: 0 });
    expect((await client.listVersions(asset)).items.map((v) => v.version)).toEqual(['1.0.0']);

    // Once a push has finished, the same bytes pushed again are a new version, as before.
    const third = await cli(['push', asset, file, '--json'], env).done;
    expect(JSON.parse(third.stdout)).toMatchObject({ version: { version: '1.1.0', status: 'ready' } });
    await proxy.close();
  });
});

describe('loadOrGenerate', () => {
  it('runs generate once across two calls with the same params and records, and agrees with the service on paramsHash', async () => {
    let runs = 0;
    const generate = async () => {
      runs++;
      const dir = join(work, `gen-${runs}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'features.parquet'), `features from run ${runs}`);
      return dir;
    };
    const params = { window: 30, features: ['amount', 'merchant'], seed: 7 };
    const first = await client.loadOrGenerate('it/features', params, generate, { records: ['it/mixed:^1'] });
    expect(first).toMatchObject({ generated: true, version: { version: '1.0.0', status: 'ready', paramsHash: first.paramsHash } });
    expect(first.version.records).toEqual(['it/mixed:1.1.0']);

    const out = join(work, 'gen-out');
    const second = await client.loadOrGenerate('it/features', { seed: 7, features: ['amount', 'merchant'], window: 30 }, generate, { records: ['it/mixed:^1'], outDir: out });
    expect(second).toMatchObject({ generated: false, paramsHash: first.paramsHash, version: { version: '1.0.0' } });
    expect(runs).toBe(1);
    expect(await readFile(join(out, 'features.parquet'), 'utf8')).toBe('features from run 1');

    const other = await client.loadOrGenerate('it/features', { ...params, window: 60 }, generate);
    expect(other).toMatchObject({ generated: true, version: { version: '1.1.0' } });
    expect(runs).toBe(2);
  });

  it('a version pushed without params is not the match for {}; one pushed with params {} is', async () => {
    const file = join(work, 'plain.txt');
    await writeFile(file, 'pushed without params');
    const plain = await client.push('it/noparams', [file]);
    expect(plain.version.paramsHash).toBeNull();
    let runs = 0;
    const generate = async () => {
      runs++;
      await writeFile(file, `generated ${runs}`);
      return file;
    };
    const first = await client.loadOrGenerate('it/noparams', {}, generate);
    expect(first).toMatchObject({ generated: true, version: { version: '1.1.0', params: {} } });
    const again = await client.loadOrGenerate('it/noparams', {}, generate);
    expect(again).toMatchObject({ generated: false, version: { version: '1.1.0' } });
    expect(runs).toBe(1);
  });
});

describe('webhooks through the CLI', () => {
  it('adds a hook, receives a signed delivery that verifyWebhook accepts, lists deliveries, removes the hook', async () => {
    const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const env = { ARCA_URL: registry!.url, ARCA_TOKEN: registry!.token, ARCA_CACHE_DIR: cacheDir };
      const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const add = await cli(['hooks', 'add', hookUrl, '--event', 'Asset Version Created', '--prefix', 'it/hooked', '--json'], env).done;
      expect(add.code, add.stderr).toBe(0);
      const hook = JSON.parse(add.stdout) as { id: string; secret: string };
      expect(hook.secret.length).toBeGreaterThanOrEqual(16);

      await writeFile(join(work, 'hooked.txt'), 'hooked');
      await client.push('it/hooked', [join(work, 'hooked.txt')]);
      for (let i = 0; i < 200 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(received).toHaveLength(1);
      expect(verifyWebhook(hook.secret, received[0]!.headers, received[0]!.body)).toBe(true);
      expect(verifyWebhook(hook.secret, received[0]!.headers, received[0]!.body.replace('it/hooked', 'it/hacked'))).toBe(false);
      expect(JSON.parse(received[0]!.body)).toMatchObject({ 'detail-type': 'Asset Version Created', detail: { asset: 'it/hooked', version: '1.0.0' } });

      let deliveries: { items: { ok: boolean; statusCode?: number }[] } = { items: [] };
      for (let i = 0; i < 100 && deliveries.items.length === 0; i++) {
        deliveries = JSON.parse((await cli(['hooks', 'deliveries', hook.id, '--json'], env).done).stdout);
        if (deliveries.items.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(deliveries.items).toMatchObject([{ ok: true, statusCode: 204 }]);

      expect(JSON.parse((await cli(['hooks', 'ls', '--json'], env).done).stdout).items).toMatchObject([{ id: hook.id, url: hookUrl }]);
      expect(await cli(['hooks', 'rm', hook.id], env).done).toMatchObject({ code: 0, stdout: `hook ${hook.id} deleted\n` });
      expect(JSON.parse((await cli(['hooks', 'ls', '--json'], env).done).stdout).items).toEqual([]);
    } finally {
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    }
  });
});

describe('CLI messages from a real registry', () => {
  const env = () => ({ ARCA_URL: registry!.url, ARCA_TOKEN: registry!.token, ARCA_CACHE_DIR: cacheDir });
  const stderrOf = async (...args: string[]) => {
    const r = await cli(args, env()).done;
    expect(r.code).toBe(1);
    return r.stderr;
  };

  beforeAll(async () => {
    const src = join(work, 'msgs');
    await mkdir(src, { recursive: true });
    for (const [version, publish] of [['1.0.0', false], ['1.1.0', true], ['1.4.0', false], ['2.0.0', false]] as const) {
      await writeFile(join(src, 'w.bin'), `weights ${version}`);
      await client.push('it/msgs', [src], { version, publish });
    }
  });

  it('a spec nothing matches says whether the asset exists, and its nearest versions', async () => {
    expect(await stderrOf('pull', 'it/no-such:1.0.0')).toMatch(/^arca: NotFound: nothing matches it\/no-such:1\.0\.0: there is no asset it\/no-such \(request /);
    expect(await stderrOf('pull', 'it/msgs:1.2.0')).toMatch(/^arca: NotFound: nothing matches it\/msgs:1\.2\.0: asset it\/msgs exists; nearest versions: 1\.0\.0 \(ready\), 1\.1\.0, 1\.4\.0 \(ready\), 2\.0\.0 \(ready\) \(request /);
    expect(await stderrOf('resolve', 'it/msgs:^3')).toMatch(/nearest versions: 1\.4\.0 \(ready\), 2\.0\.0 \(ready\)/);
    expect(await stderrOf('pull', 'it/msgs:^2', '--stage', 'published')).toMatch(/nearest versions: 1\.4\.0 \(ready\), 2\.0\.0 \(ready\)/);
    expect(await stderrOf('pull', 'it/msgs:prod')).toMatch(/nothing matches it\/msgs:prod: it\/msgs has no alias prod \(it has no aliases\)/);
  });

  it('name@1.0.0 is answered by the registry with the name:1.0.0 spelling', async () => {
    expect(await stderrOf('pull', 'it/msgs@1.1.0')).toMatch(/^arca: ValidationError: "it\/msgs@1\.1\.0" is not a spec: a version follows a colon, as in "it\/msgs:1\.1\.0"/);
  });

  it('rm refusals name --force and --reason', async () => {
    expect(await stderrOf('rm', 'it/msgs', '1.1.0')).toMatch(/^arca: VersionPublished: it\/msgs:1\.1\.0 is published: an admin deletes it with --force --reason "why"/);
    expect(await stderrOf('rm', 'it/msgs')).toMatch(/^arca: ValidationError: asset it\/msgs has 4 live versions: delete it with --force --reason "why" \(admin\)/);
    const ok = await cli(['rm', 'it/msgs', '1.1.0', '--force', '--reason', 'superseded'], env()).done;
    expect(ok, ok.stderr).toMatchObject({ code: 0, stdout: 'it/msgs:1.1.0 deleted\n' });
  });
});

describe('pull --offline', () => {
  it('serves a pinned version from the cache with the server stopped', async () => {
    const url = registry!.url;
    await client.pull('it/mixed:1.0.0');
    await registry!.stop();
    registry = undefined;
    const env = { ARCA_URL: url, ARCA_TOKEN: 'unused', ARCA_CACHE_DIR: cacheDir };
    const out = join(work, 'out-offline');
    const r = await cli(['pull', 'it/mixed:1.0.0', '--offline', '-o', out, '--json'], env).done;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ asset: 'it/mixed', version: '1.0.0', downloaded: 0 });
    expect(Object.keys(await tree(out)).sort()).toEqual(['model.pkl', 'tokenizer/merges.json', 'tokenizer/vocab.json', 'weights.safetensors']);
    const online = await cli(['pull', 'it/mixed:1.0.0', '-o', out], env).done;
    expect(online.code).toBe(1);
    expect(online.stderr).toMatch(/^arca: NetworkError: /);
  });
});
