/**
 * The local content-addressed cache (R-CLIENT): blobs by SHA-256, written once through a temp file and a
 * rename, read-only on disk, re-hashed before every reuse (a blob whose bytes changed is dropped and
 * fetched again); manifests of resolved versions so that a pinned spec can be served offline; an LRU prune
 * by last use (the blob's mtime, set on every use because many mounts do not keep atime).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ResolveResult, VersionStatus } from '../contract/schemas.ts';
import { hashFile } from './hash.ts';

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
  format: string;
}

/** What a pull learnt about a version, kept for offline use. */
export interface Manifest {
  asset: string;
  version: string;
  status: VersionStatus;
  /** False when only a sub-path was resolved: the file list is then partial. */
  complete: boolean;
  files: ManifestFile[];
  savedAt: string;
}

export interface CachedBlob {
  sha256: string;
  size: number;
  lastUsed: Date;
}

export class BlobCache {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  blobPath(sha256: string): string {
    return join(this.dir, 'blobs', 'sha256', sha256);
  }

  /** A fresh temp path on the cache's file system, so the final rename is atomic. */
  async tempPath(): Promise<string> {
    const tmp = join(this.dir, 'tmp');
    await mkdir(tmp, { recursive: true });
    return join(tmp, `${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  /**
   * Whether a blob with these bytes is cached. The bytes are hashed again: a cached blob edited through a
   * hard link, or damaged on disk, is removed so the caller fetches it again.
   */
  async has(sha256: string, size: number): Promise<boolean> {
    const path = this.blobPath(sha256);
    const st = await stat(path).catch(() => undefined);
    if (!st) return false;
    const intact = st.size === size && (await hashFile(path, size).then((d) => d.sha256 === sha256, () => false));
    if (!intact) {
      await rm(path, { force: true });
      return false;
    }
    await this.touch(sha256);
    return true;
  }

  /** Moves a verified temp file into the cache under its digest. */
  async adopt(tmp: string, sha256: string): Promise<string> {
    const path = this.blobPath(sha256);
    await mkdir(dirname(path), { recursive: true });
    await chmod(tmp, 0o444);
    await rename(tmp, path);
    return path;
  }

  async touch(sha256: string): Promise<void> {
    const now = new Date();
    await utimes(this.blobPath(sha256), now, now).catch(() => undefined);
  }

  private manifestPath(asset: string, version: string): string {
    return join(this.dir, 'manifests', ...asset.split('/'), `${version}.json`);
  }

  /** Records a resolved version; files learnt earlier from another sub-path are kept. */
  async saveManifest(resolved: ResolveResult, complete: boolean): Promise<void> {
    const prior = await this.readManifest(resolved.asset, resolved.version);
    const files = new Map((prior?.files ?? []).map((f) => [f.path, f]));
    for (const f of resolved.files) files.set(f.path, { path: f.path, size: f.size, sha256: f.sha256, format: f.format });
    const manifest: Manifest = {
      asset: resolved.asset,
      version: resolved.version,
      status: resolved.status,
      complete: complete || prior?.complete === true,
      files: [...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
      savedAt: new Date().toISOString(),
    };
    const path = this.manifestPath(resolved.asset, resolved.version);
    await mkdir(dirname(path), { recursive: true });
    const tmp = await this.tempPath();
    await writeFile(tmp, JSON.stringify(manifest));
    await rename(tmp, path);
  }

  async readManifest(asset: string, version: string): Promise<Manifest | undefined> {
    try {
      return JSON.parse(await readFile(this.manifestPath(asset, version), 'utf8')) as Manifest;
    } catch {
      // No manifest (never pulled) or a torn one: either way there is nothing to serve offline.
      return undefined;
    }
  }

  async list(): Promise<CachedBlob[]> {
    const dir = join(this.dir, 'blobs', 'sha256');
    const names = await readdir(dir).catch(() => [] as string[]);
    const blobs: CachedBlob[] = [];
    for (const name of names) {
      const st = await stat(join(dir, name)).catch(() => undefined);
      if (st?.isFile()) blobs.push({ sha256: name, size: st.size, lastUsed: st.mtime });
    }
    return blobs.sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime());
  }

  /** Deletes least recently used blobs until the cache holds at most `maxBytes`, and stale leftovers. */
  async prune(maxBytes: number): Promise<{ removed: CachedBlob[]; kept: number; bytes: number }> {
    const blobs = await this.list();
    let bytes = blobs.reduce((n, b) => n + b.size, 0);
    const removed: CachedBlob[] = [];
    for (const blob of [...blobs].reverse()) {
      if (bytes <= maxBytes) break;
      await rm(this.blobPath(blob.sha256), { force: true });
      bytes -= blob.size;
      removed.push(blob);
    }
    const day = 24 * 3600 * 1000;
    // Leftovers: temp files of interrupted downloads, resume states of uploads whose versions have expired
    // on the server (24 h), remembered digests of files not pushed for a month.
    await this.removeOlderThan('tmp', day);
    await this.removeOlderThan('uploads', 2 * day);
    await this.removeOlderThan('digests', 30 * day);
    return { removed, kept: blobs.length - removed.length, bytes };
  }

  private async removeOlderThan(sub: string, ageMs: number): Promise<void> {
    const dir = join(this.dir, sub);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const st = await stat(join(dir, name)).catch(() => undefined);
      if (st && st.mtimeMs < Date.now() - ageMs) await rm(join(dir, name), { force: true });
    }
  }
}

/** Parses `10G`, `500MiB`, `1.5GB`, `1024` (bytes); binary units. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a size (examples: 500M, 10G, 1.5T)`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(m[1]) * unit);
}
