/**
 * Worker thread of local/arrivals.ts: per multipart upload, the running SHA-256 after each part of the
 * in-order prefix, fed from the part files s3rver stored, and the object being assembled from the same bytes in
 * a staging file. Requests are handled one at a time, in the order sent, so a `seal` sees every `extend` posted
 * before it, and nothing writes to the staging file after it.
 */
import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, truncate, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parentPort } from 'node:worker_threads';

export type ArrivalRequest =
  /** Hash `length` bytes of `file` (part `after + 1`) onto the state after part `after`; write them at `offset` of `staging`. */
  | { id: number; op: 'extend'; upload: string; after: number; file: string; length: number; staging: string; offset: number }
  /** The SHA-256 after part `after`, with `staging` cut to the `size` of those parts. */
  | { id: number; op: 'seal'; upload: string; after: number; staging: string; size: number }
  | { id: number; op: 'forget'; upload: string; staging: string };

export type ArrivalReply = { id: number; sha256?: string; error?: string };

const CHUNK = 1024 * 1024;
/**
 * s3rver answers a part's PUT when its bytes have passed its MD5, a moment before its file stream has written
 * the last of them: a short read waits for them this long.
 */
const SETTLE_MS = 5_000;

/** By upload: index k holds the state after parts 1..k (0: nothing hashed). */
const uploads = new Map<string, Hash[]>();
const buffer = Buffer.allocUnsafe(CHUNK);

async function extend({ upload, after, file, length, staging, offset }: Extract<ArrivalRequest, { op: 'extend' }>): Promise<void> {
  const states = uploads.get(upload) ?? [createHash('sha256')];
  uploads.set(upload, states);
  const base = states[after];
  if (!base) throw new Error(`no state after part ${after}`);
  const next = base.copy();
  const handle = await open(file, 'r');
  const out = await open(staging, constants.O_WRONLY | constants.O_CREAT, 0o600);
  try {
    let waited = 0;
    for (let position = 0; position < length; ) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK, length - position), position);
      if (bytesRead === 0) {
        if ((waited += 10) > SETTLE_MS) throw new Error(`${file} holds ${position} of ${length} bytes`);
        await sleep(10);
        continue;
      }
      const chunk = buffer.subarray(0, bytesRead);
      next.update(chunk);
      await out.write(chunk, 0, bytesRead, offset + position);
      position += bytesRead;
    }
    // A rewound prefix leaves no bytes of the parts it dropped behind.
    await out.truncate(offset + length);
  } finally {
    await Promise.all([handle.close(), out.close()]);
  }
  states.length = after + 1;
  states.push(next);
}

async function handle(request: ArrivalRequest): Promise<ArrivalReply> {
  switch (request.op) {
    case 'extend':
      await extend(request);
      return { id: request.id };
    case 'seal': {
      const state = uploads.get(request.upload)?.[request.after];
      if (!state) throw new Error(`no state after part ${request.after}`);
      await truncate(request.staging, request.size);
      uploads.delete(request.upload);
      return { id: request.id, sha256: state.digest('hex') };
    }
    case 'forget':
      uploads.delete(request.upload);
      await unlink(request.staging).catch(() => undefined);
      return { id: request.id };
  }
}

let queue = Promise.resolve();
parentPort!.on('message', (request: ArrivalRequest) => {
  queue = queue.then(async () => {
    const reply = await handle(request).catch((error: unknown) => ({ id: request.id, error: String(error) }));
    parentPort!.postMessage(reply);
  });
});
