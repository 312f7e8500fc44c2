/**
 * Hashing while reading (R-UPLOAD): one streaming pass over a file yields its SHA-256 and, for a
 * multipart upload, the SHA-256 of each part, because the part size is a fixed function of the size.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
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
 * has the file's own digest as its part digest, so nothing is hashed twice there. Above one part, the part
 * digests are computed on a worker thread from the same chunks, in parallel with the whole-file digest.
 */
export async function hashFile(
  path: string,
  expectedSize: number,
  opts: { withParts?: boolean; onBytes?: (n: number) => void; signal?: AbortSignal } = {},
): Promise<FileDigest> {
  const ps = partSizeFor(expectedSize);
  if (opts.withParts === true && expectedSize > ps) return hashWithPartWorker(path, expectedSize, ps, opts);
  const whole = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK, signal: opts.signal }) as AsyncIterable<Buffer>) {
    whole.update(chunk);
    size += chunk.length;
    opts.onBytes?.(chunk.length);
  }
  checkSize(path, expectedSize, size);
  const sha256 = whole.digest('hex');
  return opts.withParts ? { size, sha256, parts: [sha256] } : { size, sha256 };
}

function checkSize(path: string, expected: number, read: number): void {
  if (read !== expected) throw new Error(`${path} changed while it was read (${expected} bytes expected, ${read} read)`);
}

/**
 * The worker's file beside this module: the TypeScript source in a clone, `hashWorker.js` in the built package
 * (bin/build-client.ts bundles this module into a chunk of dist/ and the worker into dist/hashWorker.js).
 */
const WORKER_FILE = import.meta.url.endsWith('.ts') ? './hashWorker.ts' : './hashWorker.js';

/** Chunks in flight between the reader and the part hasher: bounds memory at BUFFERS × READ_CHUNK. */
const BUFFERS = 4;

async function hashWithPartWorker(
  path: string,
  expectedSize: number,
  partSize: number,
  opts: { onBytes?: (n: number) => void; signal?: AbortSignal },
): Promise<FileDigest> {
  const worker = new Worker(new URL(WORKER_FILE, import.meta.url), { workerData: { partSize } });
  const free: Uint8Array[] = Array.from({ length: BUFFERS }, () => new Uint8Array(READ_CHUNK));
  const waiters: ((b: Uint8Array) => void)[] = [];
  let failed: Error | undefined;
  const done = new Promise<string[]>((resolve, reject) => {
    worker.on('message', (m: { chunk?: Uint8Array; parts?: string[] }) => {
      if (m.parts) return resolve(m.parts);
      const w = waiters.shift();
      if (w) w(m.chunk!);
      else free.push(m.chunk!);
    });
    worker.on('error', (err) => {
      failed = err;
      reject(err);
      for (const w of waiters.splice(0)) w(new Uint8Array(0));
    });
  });
  done.catch(() => undefined);
  const whole = createHash('sha256');
  const file = await open(path, 'r');
  let size = 0;
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      const buf = free.pop() ?? (await new Promise<Uint8Array>((r) => waiters.push(r)));
      if (failed) throw failed;
      const { bytesRead } = await file.read(buf, 0, buf.length, size);
      if (bytesRead === 0) break;
      whole.update(buf.subarray(0, bytesRead));
      size += bytesRead;
      opts.onBytes?.(bytesRead);
      worker.postMessage({ chunk: buf, length: bytesRead }, [buf.buffer as ArrayBuffer]);
    }
    checkSize(path, expectedSize, size);
    worker.postMessage('end');
    const parts = await done;
    return { size, sha256: whole.digest('hex'), parts };
  } finally {
    await file.close();
    await worker.terminate();
  }
}
