import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ArcaClient } from '../../client/client.ts';
import { ArcaApiError } from '../../client/errors.ts';
import { sha256, startFakeStore, type FakeStore } from './fakeStore.ts';

const MIB = 1024 * 1024;
const big = Buffer.alloc(70 * MIB + 7);
for (let i = 0; i < big.length; i += 1024) big.writeUInt32BE(i >>> 0, i);
const files = [
  { path: 'model.pkl', bytes: Buffer.from('pickled model bytes') },
  { path: 'tokenizer/vocab.json', bytes: Buffer.from('{"a":1}') },
  { path: 'weights.safetensors', bytes: big },
];

let store: FakeStore;
let dir: string;
let n = 0;
const fresh = () => join(dir, `case-${++n}`);
const client = (cacheDir: string, rangeSize?: number) => new ArcaClient({ url: store.url, token: 't', cacheDir, rangeSize });
const RANGE = 32 * MIB;

beforeAll(async () => {
  store = await startFakeStore('fraud/xgb', '1.2.0', files);
  dir = await mkdtemp(join(tmpdir(), 'arca-pull-'));
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  store.tamper.clear();
  store.failRanges.clear();
  store.slowFirst.clear();
  store.dropOnce.clear();
  store.corruptRange.clear();
  store.requests.length = 0;
});

describe('pull', () => {
  it('downloads into the cache, verifies, and writes byte-identical, writable copies into the output directory', async () => {
    const cacheDir = fresh();
    const out = fresh();
    const c = client(cacheDir);
    const r = await c.pull('fraud/xgb:^1', { outDir: out });
    expect(r).toMatchObject({ asset: 'fraud/xgb', version: '1.2.0', downloaded: files.reduce((s, f) => s + f.bytes.length, 0) });
    for (const f of files) {
      const outPath = join(out, ...f.path.split('/'));
      expect(sha256(await readFile(outPath))).toBe(sha256(f.bytes));
      const [o, b] = await Promise.all([stat(outPath), stat(c.cache.blobPath(sha256(f.bytes)))]);
      expect(o.ino).not.toBe(b.ino); // a copy (or a reflink): never the cached blob's inode
      expect(o.mode & 0o777).toBe(0o644);
      expect(b.mode & 0o222).toBe(0); // cached blobs are read-only
    }
    // From a loopback store even the large file comes as one stream.
    const gets = store.requests.filter((q) => q.path === '/blob/weights.safetensors');
    expect(gets).toEqual([{ method: 'GET', path: '/blob/weights.safetensors', range: undefined }]);
    c.close();
  });

  it('with a range size, fetches a large file as parallel ranged GETs', async () => {
    const c = client(fresh(), RANGE);
    const r = await c.pull('fraud/xgb:1.2.0/weights.safetensors');
    expect(sha256(await readFile(r.files[0]!.cachePath))).toBe(sha256(big));
    const ranges = store.requests.filter((q) => q.path === '/blob/weights.safetensors').map((q) => q.range);
    expect(ranges.sort()).toEqual(['bytes=0-33554431', 'bytes=33554432-67108863', `bytes=67108864-${big.length - 1}`]);
    c.close();
  });

  it('hashes right when the later ranges land before the first', async () => {
    const c = client(fresh(), RANGE);
    store.slowFirst.set('weights.safetensors', 300);
    const r = await c.pull('fraud/xgb:1.2.0/weights.safetensors', { outDir: fresh() });
    expect(r.downloaded).toBe(big.length);
    expect(sha256(await readFile(r.files[0]!.outPath!))).toBe(sha256(big));
    c.close();
  });

  it.each([[undefined], [RANGE]])('resumes a GET dropped half-way from the byte where it stopped (range size %s)', async (rangeSize) => {
    const c = client(fresh(), rangeSize);
    store.dropOnce.add('weights.safetensors');
    const r = await c.pull('fraud/xgb:1.2.0/weights.safetensors');
    expect(sha256(await readFile(r.files[0]!.cachePath))).toBe(sha256(big));
    expect(r.downloaded).toBe(big.length); // the retry asked only for what was missing
    const resumed = store.requests.filter((q) => q.path === '/blob/weights.safetensors' && q.range && !/^bytes=(0|33554432|67108864)-/.test(q.range));
    expect(resumed).toHaveLength(1);
    c.close();
  });

  it('reuses cached blobs: a second pull downloads nothing', async () => {
    const cacheDir = fresh();
    const c = client(cacheDir);
    await c.pull('fraud/xgb:1.2.0', { outDir: fresh() });
    const second = await c.pull('fraud/xgb:1.2.0', { outDir: fresh() });
    expect(second.downloaded).toBe(0);
    expect(second.files.every((f) => f.cached)).toBe(true);
    c.close();
  });

  it('detects a corrupted cached blob and fetches it again', async () => {
    const cacheDir = fresh();
    const c = client(cacheDir);
    await c.pull('fraud/xgb:1.2.0');
    const blob = c.cache.blobPath(sha256(files[0]!.bytes));
    await chmod(blob, 0o644);
    const damaged = Buffer.from(files[0]!.bytes);
    damaged[0] = damaged[0]! ^ 0xff; // same size, other bytes: only re-hashing can tell
    await writeFile(blob, damaged);
    const out = fresh();
    const r = await c.pull('fraud/xgb:1.2.0/model.pkl', { outDir: out });
    expect(r.downloaded).toBe(files[0]!.bytes.length);
    expect(r.files).toMatchObject([{ path: 'model.pkl', cached: false }]);
    expect(await readFile(join(out, 'model.pkl'))).toEqual(files[0]!.bytes);
    expect(await readFile(blob)).toEqual(files[0]!.bytes);
    c.close();
  });

  it.each(['model.pkl', 'weights.safetensors'])('fails closed when the store serves other bytes (%s): nothing cached, nothing written', async (path) => {
    const cacheDir = fresh();
    const out = fresh();
    const c = client(cacheDir);
    store.tamper.add(path);
    const err = await c.pull(`fraud/xgb:1.2.0/${path}`, { outDir: out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArcaApiError);
    expect(err).toMatchObject({ code: 'ChecksumMismatch' });
    const f = files.find((x) => x.path === path)!;
    await expect(stat(c.cache.blobPath(sha256(f.bytes)))).rejects.toThrow(/ENOENT/);
    await expect(stat(join(out, path))).rejects.toThrow(/ENOENT/);
    c.close();
  });

  it.each([[0], [RANGE], [2 * RANGE]])('refuses a file whose range at %i came corrupted, leaving nothing in the cache, its temp files or the output', async (at) => {
    const c = client(fresh(), RANGE);
    const out = fresh();
    store.corruptRange.set('weights.safetensors', at);
    const err = await c.pull('fraud/xgb:1.2.0/weights.safetensors', { outDir: out }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ChecksumMismatch' });
    await expect(stat(c.cache.blobPath(sha256(big)))).rejects.toThrow(/ENOENT/);
    expect(await readdir(join(c.cacheDir, 'tmp'))).toEqual([]);
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
    c.close();
  });

  it('a failed pull into an existing directory leaves the file there as it was, and no temp file beside it', async () => {
    const c = client(fresh());
    const out = fresh();
    await mkdir(out);
    await writeFile(join(out, 'weights.safetensors'), 'the previous weights');
    store.corruptRange.set('weights.safetensors', 0);
    await expect(c.pull('fraud/xgb:1.2.0/weights.safetensors', { outDir: out })).rejects.toMatchObject({ code: 'ChecksumMismatch' });
    expect(await readdir(out)).toEqual(['weights.safetensors']);
    expect(await readFile(join(out, 'weights.safetensors'), 'utf8')).toBe('the previous weights');
    // And once the store is right again, the same pull replaces it.
    store.corruptRange.clear();
    await c.pull('fraud/xgb:1.2.0/weights.safetensors', { outDir: out });
    expect(await readdir(out)).toEqual(['weights.safetensors']);
    expect(sha256(await readFile(join(out, 'weights.safetensors')))).toBe(sha256(big));
    c.close();
  });

  it('gives up on a store that keeps failing mid-download, after retries, keeping nothing', async () => {
    const c = client(fresh(), RANGE);
    store.failRanges.add('weights.safetensors');
    await expect(c.pull('fraud/xgb:1.2.0/weights.safetensors', { attempts: 2 })).rejects.toThrow(/answered 500: InternalError/);
    const ranged = store.requests.filter((q) => q.range && !q.range.startsWith('bytes=0-'));
    expect(ranged).toHaveLength(4); // two failing ranges, two attempts each
    await expect(stat(c.cache.blobPath(sha256(big)))).rejects.toThrow(/ENOENT/);
    c.close();
  });

  it('a write to a pulled file (as root could make through a link) leaves the cache intact for the next pull', async () => {
    const c = client(fresh());
    const first = fresh();
    await c.pull('fraud/xgb:1.2.0/model.pkl', { outDir: first });
    await writeFile(join(first, 'model.pkl'), 'edited in the checkout');
    const second = fresh();
    const again = await c.pull('fraud/xgb:1.2.0/model.pkl', { outDir: second });
    expect(again.files).toMatchObject([{ path: 'model.pkl', cached: true }]);
    expect(await readFile(join(second, 'model.pkl'))).toEqual(files[0]!.bytes);
    expect(await readFile(c.cache.blobPath(sha256(files[0]!.bytes)))).toEqual(files[0]!.bytes);
    c.close();
  });

  it('link: true hard-links output files to the read-only cached blobs, on request only', async () => {
    const c = client(fresh());
    const out = fresh();
    await c.pull('fraud/xgb:1.2.0/tokenizer', { outDir: out, link: true });
    const o = await stat(join(out, 'tokenizer', 'vocab.json'));
    const b = await stat(c.cache.blobPath(sha256(files[1]!.bytes)));
    expect(o.ino).toBe(b.ino);
    expect(o.mode & 0o222).toBe(0);
    c.close();
  });
});

describe('pull --offline', () => {
  it('serves an exact version from the cache alone, and refuses what could resolve differently online', async () => {
    const cacheDir = fresh();
    const c = client(cacheDir);
    await c.pull('fraud/xgb:1.2.0');
    const offline = new ArcaClient({ url: 'http://127.0.0.1:9', token: 't', cacheDir }); // nothing listens there
    const out = fresh();
    const r = await offline.pull('fraud/xgb:1.2.0', { outDir: out, offline: true });
    expect(r.downloaded).toBe(0);
    expect(await readFile(join(out, 'tokenizer', 'vocab.json'), 'utf8')).toBe('{"a":1}');
    const sub = await offline.pull('fraud/xgb:1.2.0/tokenizer', { offline: true });
    expect(sub.files.map((f) => f.path)).toEqual(['tokenizer/vocab.json']);
    await expect(offline.pull('fraud/xgb:^1', { offline: true })).rejects.toThrow(/needs an exact version/);
    await expect(offline.pull('fraud/xgb:1.3.0', { offline: true })).rejects.toThrow(/never pulled/);
    offline.close();
    c.close();
  });

  it('refuses a whole version when only a sub-path was pulled', async () => {
    const cacheDir = fresh();
    const c = client(cacheDir);
    await c.pull('fraud/xgb:1.2.0/model.pkl');
    await expect(c.pull('fraud/xgb:1.2.0', { offline: true })).rejects.toThrow(/only part of/);
    expect((await c.pull('fraud/xgb:1.2.0/model.pkl', { offline: true })).files).toHaveLength(1);
    c.close();
  });
});

describe('cache prune', () => {
  it('removes least recently used blobs until the cache fits', async () => {
    const c = client(fresh());
    await c.pull('fraud/xgb:1.2.0');
    const old = new Date('2020-01-01T00:00:00Z');
    const older = new Date('2019-01-01T00:00:00Z');
    await utimes(c.cache.blobPath(sha256(files[0]!.bytes)), old, old);
    await utimes(c.cache.blobPath(sha256(big)), older, older);
    const r = await c.cache.prune(big.length);
    expect(r.removed.map((b) => b.sha256)).toEqual([sha256(big)]);
    expect(r.kept).toBe(2);
    const listed = await c.cache.list();
    expect(listed.map((b) => b.sha256)).toEqual([sha256(files[1]!.bytes), sha256(files[0]!.bytes)]);
    expect((await c.cache.prune(0)).kept).toBe(0);
    c.close();
  });

  it('clears leftovers by age: temp files after a day, resume states after two, digests after thirty', async () => {
    const c = client(fresh());
    const days = (n: number) => new Date(Date.now() - n * 24 * 3600 * 1000);
    const put = async (sub: string, name: string, age: Date) => {
      await mkdir(join(c.cacheDir, sub), { recursive: true });
      await writeFile(join(c.cacheDir, sub, name), '{}');
      await utimes(join(c.cacheDir, sub, name), age, age);
    };
    await put('tmp', 'old', days(2));
    await put('tmp', 'new', days(0.5));
    await put('uploads', 'old.json', days(3));
    await put('uploads', 'new.json', days(1));
    await put('digests', 'old', days(31));
    await put('digests', 'new', days(29));
    await c.cache.prune(Number.MAX_SAFE_INTEGER);
    const left = async (sub: string) => (await readdir(join(c.cacheDir, sub))).sort();
    expect([await left('tmp'), await left('uploads'), await left('digests')]).toEqual([['new'], ['new.json'], ['new']]);
    c.close();
  });
});
