/**
 * `pull` (R-CLIENT, R-STORE): resolve a spec, bring each file's blob into the content-addressed cache
 * (reusing cached blobs, downloading large files with parallel ranged GETs), verify every byte's SHA-256
 * before a blob is trusted — a mismatch fails closed and keeps nothing — then copy (a reflink where the file
 * system has them) the files into the output directory, replacing any existing file atomically. Hard links
 * only on request (`link`): whoever can write through a link to a read-only blob (root can, and notebooks and
 * containers often run as root) would corrupt the cache for every later pull.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, constants, link as hardLink, mkdir, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import semver from 'semver';
import type { ResolveResult } from '../contract/schemas.ts';
import { parseSpec } from '../functions/domain/spec.ts';
import type { ManifestFile } from './cache.ts';
import type { ArcaClient } from './client.ts';
import { ArcaApiError, clientError } from './errors.ts';
import { runPool, withRetries } from './pool.ts';
import { TransferError } from './transfer.ts';

const MIB = 1024 * 1024;
/** Files at least this large are fetched as parallel ranges of `RANGE_SIZE`. */
export const RANGED_THRESHOLD = 64 * MIB;
const RANGE_SIZE = 32 * MIB;

export interface PullOptions {
  /** Write the files (or the spec's sub-path) under this directory, at their paths in the version. */
  outDir?: string;
  /** Serve an exact `name:1.2.3` spec from the cache alone, without calling the service. */
  offline?: boolean;
  /**
   * Hard-link files in `outDir` to the read-only cached blobs instead of copying them (no bytes copied, but a
   * write through the link, which root can make, changes the cached blob). Falls back to a copy across file systems.
   */
  link?: boolean;
  stage?: 'published';
  attempts?: number;
  signal?: AbortSignal;
  onProgress?: (p: { done: number; total: number }) => void;
}

export interface PulledFile extends ManifestFile {
  /** The cached blob. */
  cachePath: string;
  /** Where the file was written, with `outDir`. */
  outPath?: string;
  /** Whether the blob came from the cache rather than the network. */
  cached: boolean;
}

export interface PullResult {
  asset: string;
  version: string;
  status: string;
  files: PulledFile[];
  downloaded: number;
}

export async function pull(client: ArcaClient, spec: string, opts: PullOptions = {}): Promise<PullResult> {
  const plan = opts.offline ? await offlinePlan(client, spec) : await onlinePlan(client, spec, opts.stage);
  const total = plan.files.reduce((n, f) => n + f.size, 0);
  let done = 0;
  const before = client.transfers.stats.bytesDownloaded;
  const onBytes = (n: number) => opts.onProgress?.({ done: (done += n), total });
  const pulled: PulledFile[] = [];
  // Small files go through the pool concurrently; a large one uses the pool for its own ranges.
  const large = plan.files.filter((f) => f.size >= RANGED_THRESHOLD);
  const small = plan.files.filter((f) => f.size < RANGED_THRESHOLD);
  const fetchOne = async (f: ManifestFile & { url?: string }) => {
    const cached = await client.cache.has(f.sha256, f.size);
    if (cached) onBytes(f.size);
    else if (f.url) await download(client, { ...f, url: f.url }, opts, onBytes);
    else throw clientError(`${plan.asset}:${plan.version}/${f.path} is not in the cache (${client.cacheDir}); pull it once online`);
    pulled.push({ path: f.path, size: f.size, sha256: f.sha256, format: f.format, cachePath: client.cache.blobPath(f.sha256), cached });
  };
  await runPool(small, client.concurrency, opts.signal, fetchOne);
  for (const f of large) await fetchOne(f);
  pulled.sort((a, b) => (a.path < b.path ? -1 : 1));
  if (opts.outDir) for (const f of pulled) f.outPath = await place(f, opts.outDir, opts.link === true);
  return { asset: plan.asset, version: plan.version, status: plan.status, files: pulled, downloaded: client.transfers.stats.bytesDownloaded - before };
}

interface Plan {
  asset: string;
  version: string;
  status: string;
  files: (ManifestFile & { url?: string })[];
}

async function onlinePlan(client: ArcaClient, spec: string, stage?: 'published'): Promise<Plan> {
  const resolved: ResolveResult = await client.resolve(spec, { stage });
  await client.cache.saveManifest(resolved, parseSpec(spec).path === undefined);
  return resolved;
}

/** Only an exact version is served offline: a range or alias could mean a newer version by now. */
async function offlinePlan(client: ArcaClient, spec: string): Promise<Plan> {
  let parsed;
  try {
    parsed = parseSpec(spec);
  } catch (err) {
    throw new ArcaApiError('ValidationError', (err as Error).message);
  }
  if (parsed.selector.kind !== 'exact' || !semver.valid(parsed.selector.version)) {
    throw clientError(`--offline needs an exact version (like ${parsed.name}:1.2.3): "${spec}" could resolve differently online`);
  }
  const manifest = await client.cache.readManifest(parsed.name, parsed.selector.version);
  if (!manifest) throw clientError(`${parsed.name}:${parsed.selector.version} was never pulled into ${client.cacheDir}; pull it once online`);
  const prefix = parsed.path;
  if (!prefix && !manifest.complete) throw clientError(`only part of ${parsed.name}:${parsed.selector.version} was pulled before; pull it once online`);
  const files = prefix ? manifest.files.filter((f) => f.path === prefix || f.path.startsWith(`${prefix}/`)) : manifest.files;
  if (files.length === 0) throw new ArcaApiError('NotFound', `${spec}: no such file in the cached manifest`);
  return { asset: manifest.asset, version: manifest.version, status: manifest.status, files };
}

/** Downloads one file into the cache through a temp file, verifying size and SHA-256 before adopting it. */
async function download(client: ArcaClient, f: ManifestFile & { url: string }, opts: PullOptions, onBytes: (n: number) => void): Promise<void> {
  const tmp = await client.cache.tempPath();
  try {
    let digest: string;
    if (f.size < RANGED_THRESHOLD) {
      digest = await withRetries(opts.attempts ?? 5, opts.signal, async () => {
        const hash = createHash('sha256');
        await client.transfers.get(f.url, tmp, { start: 0, end: f.size }, { whole: true, hash, signal: opts.signal, onBytes });
        return hash.digest('hex');
      }, retryable);
    } else {
      digest = await rangedDownload(client, f, tmp, opts, onBytes);
    }
    if (digest !== f.sha256) {
      throw new ArcaApiError('ChecksumMismatch', `${f.path}: downloaded bytes hash to ${digest}, not ${f.sha256}; nothing was kept`);
    }
    await client.cache.adopt(tmp, f.sha256);
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Parallel ranged GETs into a preallocated temp file. The digest is computed from the file itself, range
 * by range in order as soon as each range has landed, so hashing overlaps the download.
 */
async function rangedDownload(client: ArcaClient, f: ManifestFile & { url: string }, tmp: string, opts: PullOptions, onBytes: (n: number) => void): Promise<string> {
  await writeFile(tmp, '');
  await truncate(tmp, f.size);
  const ranges: { start: number; end: number; landed: Deferred }[] = [];
  for (let start = 0; start < f.size; start += RANGE_SIZE) ranges.push({ start, end: Math.min(f.size, start + RANGE_SIZE), landed: deferred() });
  // A failed download rejects every range; only the hasher's current one is awaited, so mark all handled.
  for (const r of ranges) r.landed.promise.catch(() => undefined);
  const hashing = (async () => {
    const hash = createHash('sha256');
    for (const r of ranges) {
      await r.landed.promise;
      for await (const chunk of createReadStream(tmp, { start: r.start, end: r.end - 1, highWaterMark: 4 * MIB })) hash.update(chunk as Buffer);
    }
    return hash.digest('hex');
  })();
  try {
    await runPool(ranges, client.concurrency, opts.signal, async (range) => {
      await withRetries(opts.attempts ?? 5, opts.signal, () => client.transfers.get(f.url, tmp, range, { whole: false, signal: opts.signal, onBytes }), retryable);
      range.landed.resolve();
    });
  } catch (err) {
    for (const r of ranges) r.landed.reject(err);
    await hashing.catch(() => undefined);
    throw err;
  }
  return hashing;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** `Promise.withResolvers()`, which Node 20 lacks (the installed package runs there). */
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const retryable = (err: unknown) => err instanceof TransferError && err.retryable;

/**
 * Puts a cached blob at its path under `outDir`: a copy (a reflink where the file system has them: no bytes
 * copied, no shared inode), or with `link` a hard link where possible; atomic either way.
 */
async function place(f: PulledFile, outDir: string, link: boolean): Promise<string> {
  const root = resolve(outDir);
  const dest = resolve(root, ...f.path.split('/'));
  if (!dest.startsWith(root + sep)) throw clientError(`refusing to write ${f.path} outside ${root}`);
  await mkdir(dirname(dest), { recursive: true });
  const [src, existing] = await Promise.all([stat(f.cachePath), stat(dest).catch(() => undefined)]);
  if (link && existing && existing.ino === src.ino && existing.dev === src.dev) return dest;
  const tmp = join(dirname(dest), `.${f.sha256.slice(0, 12)}.${process.pid}.arca-tmp`);
  await rm(tmp, { force: true });
  let linked = false;
  if (link) linked = await hardLink(f.cachePath, tmp).then(() => true, () => false);
  if (!linked) {
    await copyFile(f.cachePath, tmp, constants.COPYFILE_FICLONE);
    await chmod(tmp, 0o644);
  }
  await rename(tmp, dest);
  return dest;
}
