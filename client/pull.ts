/**
 * `pull` (R-CLIENT, R-STORE): resolve a spec, bring each file's blob into the content-addressed cache
 * (reusing cached blobs, downloading large files with parallel ranged GETs), verify every byte's SHA-256
 * before a blob is trusted — a mismatch fails closed and keeps nothing — then copy (a reflink where the file
 * system has them) the files into the output directory, replacing any existing file atomically. Hard links
 * only on request (`link`): whoever can write through a link to a read-only blob (root can, and notebooks and
 * containers often run as root) would corrupt the cache for every later pull.
 */
import { chmod, copyFile, constants, link as hardLink, mkdir, rename, rm, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, join, resolve, sep } from 'node:path';
import type { ResolveResult } from '../contract/schemas.ts';
import { parseSpec } from '../functions/domain/spec.ts';
import type { ManifestFile } from './cache.ts';
import type { ArcaClient } from './client.ts';
import { ArcaApiError, clientError } from './errors.ts';
import { Landing } from './landing.ts';
import { runPool, withRetries } from './pool.ts';
import { TransferError } from './transfer.ts';

const MIB = 1024 * 1024;
/** Files at least this large may be fetched as parallel ranges (`rangeSizeFor`). */
export const RANGED_THRESHOLD = 64 * MIB;
const REMOTE_RANGE_SIZE = 32 * MIB;

/**
 * How large the ranged GETs of a file are (its size: one GET). Below `RANGED_THRESHOLD`, one GET. From a
 * remote store, 32 MiB ranges, `concurrency` at a time: S3 serves one connection at a fraction of the link
 * (tens of MiB/s), so a large file needs several; taken in order, they keep the hash's cursor close behind.
 * From a loopback address (local mode, a sidecar) one stream: there is no per-connection limit to spread
 * over, and every extra stream costs CPU that the server on the same machine needs too. `rangeSize` overrides.
 */
export function rangeSizeFor(size: number, url: string, rangeSize?: number): number {
  if (rangeSize !== undefined) return rangeSize;
  if (size < RANGED_THRESHOLD || isLoopback(url)) return size;
  return REMOTE_RANGE_SIZE;
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

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
  // A large file pulled into outDir is written there as it arrives (no second pass over it to copy it):
  // its temp name beside the destination, renamed by `place` once every file is in; removed on a failure.
  const staged = new Map<string, { tmp: string; made: string | undefined }>();
  const copyDirectly = (f: ManifestFile) => opts.outDir !== undefined && !opts.link && f.size >= RANGED_THRESHOLD;
  // Small files go through the pool concurrently; a large one uses the pool for its own ranges.
  const large = plan.files.filter((f) => f.size >= RANGED_THRESHOLD);
  const small = plan.files.filter((f) => f.size < RANGED_THRESHOLD);
  const fetchOne = async (f: ManifestFile & { url?: string }) => {
    const cached = await client.cache.has(f.sha256, f.size);
    if (cached) onBytes(f.size);
    else if (f.url) {
      let copyTo: string | undefined;
      if (copyDirectly(f)) {
        const target = outTarget(f.path, opts.outDir!, f.sha256);
        staged.set(f.path, { tmp: target.tmp, made: await mkdir(dirname(target.dest), { recursive: true }) });
        copyTo = target.tmp;
      }
      await download(client, { ...f, url: f.url }, opts, onBytes, copyTo);
    } else throw clientError(`${plan.asset}:${plan.version}/${f.path} is not in the cache (${client.cacheDir}); pull it once online`);
    pulled.push({ path: f.path, size: f.size, sha256: f.sha256, format: f.format, cachePath: client.cache.blobPath(f.sha256), cached });
  };
  try {
    await runPool(small, client.concurrency, opts.signal, fetchOne);
    for (const f of large) await fetchOne(f);
    pulled.sort((a, b) => (a.path < b.path ? -1 : 1));
    if (opts.outDir) for (const f of pulled) f.outPath = await place(f, opts.outDir, opts.link === true, staged.get(f.path)?.tmp);
  } catch (err) {
    for (const { tmp, made } of staged.values()) await rm(made ?? tmp, { recursive: true, force: true });
    throw err;
  }
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
  // Loaded here: an online pull has no use for node-semver.
  const { default: semver } = await import('semver');
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

/**
 * Downloads one file into the cache through a temp file, as ranges of `rangeSizeFor(size)` fetched in parallel,
 * hashed as they arrive (landing.ts), and adopted only once its size and SHA-256 are right. A range that fails
 * part-way is retried from the byte where it stopped.
 */
async function download(client: ArcaClient, f: ManifestFile & { url: string }, opts: PullOptions, onBytes: (n: number) => void, copyTo?: string): Promise<void> {
  const tmp = await client.cache.tempPath();
  const landing = await Landing.open(tmp, f.size, rangeSizeFor(f.size, f.url, client.rangeSize), copyTo, (chunks) => client.transfers.recycle(chunks));
  let kept = false;
  try {
    await runPool(landing.segments, client.concurrency, opts.signal, (seg) =>
      withRetries(opts.attempts ?? 5, opts.signal, async () => {
        if (seg.arrived === seg.end && seg.end > seg.start) return;
        const whole = seg.arrived === 0 && seg.end === f.size;
        await client.transfers.get(f.url, { start: seg.arrived, end: seg.end }, { whole, signal: opts.signal, onBytes, onChunk: (chunk) => landing.take(seg, chunk) });
      }, retryable),
    );
    const digest = await landing.digest();
    if (digest !== f.sha256) {
      throw new ArcaApiError('ChecksumMismatch', `${f.path}: downloaded bytes hash to ${digest}, not ${f.sha256}; nothing was kept`);
    }
    await client.cache.adopt(tmp, f.sha256);
    kept = true;
  } finally {
    await landing.close();
    await rm(tmp, { force: true });
    if (!kept && copyTo) await rm(copyTo, { force: true });
  }
}

const retryable = (err: unknown) => err instanceof TransferError && err.retryable;

/**
 * Puts a cached blob at its path under `outDir`: a copy (a reflink where the file system has them: no bytes
 * copied, no shared inode), or with `link` a hard link where possible; atomic either way.
 */
async function place(f: PulledFile, outDir: string, link: boolean, staged?: string): Promise<string> {
  const { dest, tmp } = outTarget(f.path, outDir, f.sha256);
  if (staged) {
    await chmod(staged, 0o644);
    await rename(staged, dest);
    return dest;
  }
  await mkdir(dirname(dest), { recursive: true });
  const [src, existing] = await Promise.all([stat(f.cachePath), stat(dest).catch(() => undefined)]);
  if (link && existing && existing.ino === src.ino && existing.dev === src.dev) return dest;
  let linked = false;
  if (link) linked = await hardLink(f.cachePath, tmp).then(() => true, () => false);
  if (!linked) {
    await copyFile(f.cachePath, tmp, constants.COPYFILE_FICLONE);
    await chmod(tmp, 0o644);
  }
  await rename(tmp, dest);
  return dest;
}

let temps = 0;

/**
 * Where the file at `path` goes under `outDir` (never outside it), and a temp name beside it of its own: two
 * files of one content in one directory, one staged while the other is copied, must not share it.
 */
function outTarget(path: string, outDir: string, sha256: string): { dest: string; tmp: string } {
  const root = resolve(outDir);
  const dest = resolve(root, ...path.split('/'));
  if (!dest.startsWith(root + sep)) throw clientError(`refusing to write ${path} outside ${root}`);
  return { dest, tmp: join(dirname(dest), `.${sha256.slice(0, 12)}.${process.pid}.${++temps}.arca-tmp`) };
}
