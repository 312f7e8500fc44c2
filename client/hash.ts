/**
 * Hashing while reading (R-UPLOAD): one streaming pass over a file yields its SHA-256 and, for a
 * multipart upload, the SHA-256 of each part, because the part size is a fixed function of the size.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { partSizeFor } from '../functions/domain/files.ts';

const MIB = 1024 * 1024;

export interface FileDigest {
  size: number;
  sha256: string;
  /** Part SHA-256s, when asked for. */
  parts?: string[];
}

const READ_CHUNK = 4 * MIB;

/**
 * Hashes a file of known size in one pass. With `withParts`, also hashes each part; a file of one part
 * has the file's own digest as its part digest, so nothing is hashed twice there.
 */
export async function hashFile(
  path: string,
  expectedSize: number,
  opts: { withParts?: boolean; onBytes?: (n: number) => void; signal?: AbortSignal } = {},
): Promise<FileDigest> {
  const whole = createHash('sha256');
  const ps = partSizeFor(expectedSize);
  const multi = opts.withParts === true && expectedSize > ps;
  let part = createHash('sha256');
  let partFill = 0;
  const parts: string[] = [];
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK, signal: opts.signal }) as AsyncIterable<Buffer>) {
    whole.update(chunk);
    size += chunk.length;
    opts.onBytes?.(chunk.length);
    if (!multi) continue;
    for (let off = 0; off < chunk.length; ) {
      const take = Math.min(chunk.length - off, ps - partFill);
      part.update(off === 0 && take === chunk.length ? chunk : chunk.subarray(off, off + take));
      off += take;
      partFill += take;
      if (partFill === ps) {
        parts.push(part.digest('hex'));
        part = createHash('sha256');
        partFill = 0;
      }
    }
  }
  if (size !== expectedSize) throw new Error(`${path} changed while it was read (${expectedSize} bytes expected, ${size} read)`);
  const sha256 = whole.digest('hex');
  if (!opts.withParts) return { size, sha256 };
  if (!multi) return { size, sha256, parts: [sha256] };
  if (partFill > 0) parts.push(part.digest('hex'));
  return { size, sha256, parts };
}
