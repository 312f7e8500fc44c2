/**
 * Worker thread of `hashFile`: hashes the parts of a multipart file while the main thread hashes the whole
 * file, so that the one read pass runs both digests on two cores. Chunks arrive in order (transferred, not
 * copied) and go back for reuse once hashed.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const { partSize } = workerData as { partSize: number };
const parts: string[] = [];
let part: Hash = createHash('sha256');
let fill = 0;

parentPort!.on('message', (msg: { chunk: Uint8Array; length: number } | 'end') => {
  if (msg === 'end') {
    if (fill > 0) parts.push(part.digest('hex'));
    parentPort!.postMessage({ parts });
    return;
  }
  const { chunk, length } = msg;
  for (let off = 0; off < length; ) {
    const take = Math.min(length - off, partSize - fill);
    part.update(chunk.subarray(off, off + take));
    off += take;
    fill += take;
    if (fill === partSize) {
      parts.push(part.digest('hex'));
      part = createHash('sha256');
      fill = 0;
    }
  }
  parentPort!.postMessage({ chunk }, [chunk.buffer as ArrayBuffer]);
});
