/**
 * Run outputs and lineage through the SDK and the CLI against a real local registry (DynamoDB Local, the
 * S3 stand-in, the same handlers as AWS): three steps pass outputs, the last one is promoted, lineage reads.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcaClient } from '../../client/client.ts';
import { startLocal, type LocalRegistry } from '../../local/server.ts';
import { killOnceAPartLands, spawnCli } from '../fixtures/cli.ts';

let registry: LocalRegistry | undefined;
let work: string;
let client: ArcaClient;

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function startCli(args: string[]) {
  return spawnCli(args, { PATH: process.env.PATH, HOME: work, ARCA_CONFIG: join(work, 'none.json'), ARCA_URL: registry!.url, ARCA_TOKEN: registry!.token, ARCA_CACHE_DIR: join(work, 'cache') });
}
const cli = (args: string[]) => startCli(args).done;


beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'arca-outputs-it-'));
  registry = await startLocal({ dataDir: join(work, 'registry'), port: 0, inMemory: true });
  client = new ArcaClient({ url: registry.url, token: registry.token, cacheDir: join(work, 'cache') });
});

afterAll(async () => {
  client?.close();
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

/** A step: reads its input output's bytes through the presigned URL, writes its own derived from them. */
async function step(run: string, name: string, input?: string): Promise<Buffer> {
  const read = input ? Buffer.from(await (await fetch((await client.getOutput('pipe', run, input)).files[0]!.url!)).arrayBuffer()) : Buffer.from('seed');
  const bytes = Buffer.concat([read, Buffer.from(`|${name}`)]);
  const path = join(work, `${run}-${name}.bin`);
  await writeFile(path, bytes);
  const result = await client.putOutput('pipe', run, name, [path], { ttlDays: 2, metadata: { step: name } });
  expect(result.output).toMatchObject({ flow: 'pipe', run, name, status: 'ready', ttlDays: 2, metadata: { step: name } });
  expect(result.uploaded).toBe(bytes.length);
  return bytes;
}

describe('run outputs and lineage, SDK and CLI, local mode', () => {
  it('passes outputs through three steps; a second put of the same bytes uploads nothing', async () => {
    await step('r1', 'one');
    await step('r1', 'two', 'one');
    const three = await step('r1', 'three', 'two');
    expect(three.toString()).toBe('seed|one|two|three');
    const got = await client.getOutput('pipe', 'latest', 'three');
    expect(got.files[0]).toMatchObject({ sha256: sha(three), size: three.length });
    const path = join(work, 'again.bin');
    await writeFile(path, three);
    const again = await client.putOutput('pipe', 'r2', 'copy', [path]);
    expect(again).toMatchObject({ uploaded: 0, skipped: three.length, output: { status: 'ready' } });
  });

  it('arca outputs ls/get --json: latest is the newest run', async () => {
    const ls = await cli(['outputs', 'ls', 'pipe', '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout)).toMatchObject({ flow: 'pipe', run: 'r2', items: [{ name: 'copy', status: 'ready' }] });
    const r1 = JSON.parse((await cli(['outputs', 'ls', 'pipe', 'r1', '--json'])).stdout) as { items: { name: string }[] };
    expect(r1.items.map((o) => o.name)).toEqual(['one', 'three', 'two']);
    const get = await cli(['outputs', 'get', 'pipe', 'r1', 'two', '--json']);
    expect(JSON.parse(get.stdout).files[0].url).toMatch(/^http/);
  });

  it('arca outputs put and promote, then arca lineage both ways', async () => {
    const path = join(work, 'cli.bin');
    await writeFile(path, 'from the cli');
    const put = await cli(['outputs', 'put', 'pipe', 'r3', 'final', path, '--ttl-days', '5', '--json']);
    expect(put.code, put.stderr).toBe(0);
    expect(JSON.parse(put.stdout)).toMatchObject({ output: { status: 'ready', ttlDays: 5 }, uploaded: 12 });

    await client.createAsset({ name: 'pipe/data', type: 'dataset' });
    const promoted = await cli(['outputs', 'promote', 'pipe', 'r1', 'three', 'pipe/data', '--version', '1.0.0', '--json']);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(JSON.parse(promoted.stdout)).toMatchObject({ asset: 'pipe/data', version: '1.0.0', status: 'ready', source: { flow: 'pipe', run: 'r1', name: 'three' } });
    const model = join(work, 'model.bin');
    await writeFile(model, 'weights');
    await client.push('pipe/model', [model], { version: '1.0.0', records: ['pipe/data:1.0.0'] });

    const up = await cli(['lineage', 'pipe/model:1.0.0', '--json']);
    expect(JSON.parse(up.stdout)).toMatchObject({ upstream: { records: [{ asset: 'pipe/data', version: '1.0.0' }] }, downstream: { items: [] } });
    const mid = await cli(['lineage', 'pipe/data:1.0.0']);
    expect(mid.code, mid.stderr).toBe(0);
    expect(mid.stdout).toContain('run output pipe/r1/three');
    expect(mid.stdout).toMatch(/downstream\s+pipe\/model:1\.0\.0/);
  });

  it('arca outputs put killed after one part resumes through the SDK, sending only the missing parts', { timeout: 180_000 }, async () => {
    const MIB = 1024 * 1024;
    const bytes = randomBytes(2 * 64 * MIB + MIB);
    const digest = sha(bytes);
    const path = join(work, 'big-output.bin');
    await writeFile(path, bytes);
    const stateFile = join(work, 'cache', 'uploads', `${digest}.json`);
    const interrupted = await killOnceAPartLands(startCli(['outputs', 'put', 'pipe', 'r5', 'big', path, '--concurrency', '1']), stateFile);
    expect(interrupted.version).toBe('output:pipe/r5/big');
    await expect(client.getOutput('pipe', 'r5', 'big')).rejects.toThrow(/is not ready/);

    const before = client.stats.bytesUploaded;
    const resumed = await client.putOutput('pipe', 'r5', 'big', [path]);
    expect(resumed).toMatchObject({ resumed: true, output: { status: 'ready', size: bytes.length } });
    expect(client.stats.bytesUploaded - before).toBeLessThanOrEqual(bytes.length - interrupted.done.length * 64 * MIB);
    expect(resumed.skipped).toBeGreaterThanOrEqual(interrupted.done.length * 64 * MIB);
    await expect(readFile(stateFile)).rejects.toThrow(/ENOENT/);
    const got = await client.getOutput('pipe', 'r5', 'big');
    expect(sha(Buffer.from(await (await fetch(got.files[0]!.url!)).arrayBuffer()))).toBe(digest);
  });

  it('reports a bad ttl as the service error', async () => {
    const path = join(work, 'bad.bin');
    await writeFile(path, 'x');
    const bad = await cli(['outputs', 'put', 'pipe', 'r4', 'bad', path, '--ttl-days', '91']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('ValidationError');
  });
});
