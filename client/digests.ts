/**
 * Remembers the digests of files already hashed, so that pushing the same unchanged files again (a CI job,
 * a `loadOrGenerate` miss on a big dataset) reads nothing before learning that the store has them.
 * An entry is keyed by what any change to a file alters: device, inode, size, mtime and ctime in
 * nanoseconds (ctime cannot be set by tools that preserve mtime, so an edit always misses).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileDigest } from './hash.ts';

export class DigestCache {
  private readonly dir: string;

  constructor(cacheDir: string) {
    this.dir = join(cacheDir, 'digests');
  }

  /** Take the key before hashing: a file that changes while it is hashed then never matches it. */
  async key(path: string, withParts: boolean): Promise<string> {
    const st = await stat(path, { bigint: true });
    return createHash('sha256')
      .update([st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs, withParts].join('|'))
      .digest('hex');
  }

  async get(key: string): Promise<FileDigest | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, key), 'utf8')) as FileDigest;
    } catch {
      // Never hashed, or changed since: hash it.
      return undefined;
    }
  }

  async set(key: string, digest: FileDigest): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, key);
    await writeFile(`${file}.${process.pid}.tmp`, JSON.stringify(digest));
    await rename(`${file}.${process.pid}.tmp`, file);
  }
}
