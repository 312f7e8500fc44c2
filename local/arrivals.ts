/**
 * The whole-object digest of a multipart upload, computed by local mode's S3 front while the parts arrive, so
 * that commit need not read a completed object back from s3rver to hash it (R-STORE).
 *
 * Per upload, a worker thread (local/arrivals-worker.ts) keeps a running SHA-256 — and MD5 — over the in-order
 * prefix of parts, reading each part from the file s3rver stored once the front has seen s3rver accept it. A
 * part that arrives ahead of the prefix waits on disk until the prefix reaches it; a part stored again (or lost
 * to a failed write) rewinds the prefix to just before it. At CompleteMultipartUpload the digest of the listed
 * parts is the state after the last of them, when they are exactly 1..k; any other list gets none.
 *
 * The MD5 is what makes the digest safe to use: s3rver writes the MD5 of the bytes it concatenated beside the
 * completed object, so equal MD5s mean the prefix hashed the very bytes the object holds, whatever happened to a
 * part file in between (a write straight into s3rver, a part rewritten while it was read). `S3Front` compares
 * them before anything trusts the SHA-256; without that match the service hashes the object as before.
 */
import { Worker } from 'node:worker_threads';
import type { ArrivalReply, ArrivalRequest } from './arrivals-worker.ts';

export interface PartsDigest {
  size: number;
  sha256: string;
  md5: string;
}

interface Part {
  file: string;
  length: number;
  /** Bumped by every write the front saw, so a hash of an older write is not taken for the current one. */
  generation: number;
}

interface Upload {
  parts: Map<number, Part>;
  writes: number;
  /** Parts 1..hashed are in the worker's running state. */
  hashed: number;
  hashing: boolean;
  waiting: { through: number; settle: (digest: PartsDigest | undefined | Promise<PartsDigest | undefined>) => void }[];
}

type Pending = { resolve: (reply: ArrivalReply) => void; reject: (error: unknown) => void };

// The TypeScript source in a clone (run by tsx or Node's type stripping), as client/hash.ts finds its worker.
const WORKER_FILE = import.meta.url.endsWith('.ts') ? './arrivals-worker.ts' : './arrivals-worker.js';

export class Arrivals {
  private readonly uploads = new Map<string, Upload>();
  private readonly pending = new Map<number, Pending>();
  private worker: Worker | undefined;
  private nextId = 0;

  /** The front saw s3rver answer a part's write: `stored` when it took the part (200), else undefined. */
  partWritten(upload: string, partNumber: number, stored: { file: string; length: number } | undefined): void {
    const u = this.upload(upload);
    if (stored) u.parts.set(partNumber, { ...stored, generation: ++u.writes });
    else u.parts.delete(partNumber);
    if (partNumber <= u.hashed) u.hashed = partNumber - 1;
    this.advance(upload, u);
  }

  /**
   * The digest of parts `listed` concatenated, once the prefix has reached the last of them (undefined when the
   * list is not 1..k, or a listed part was not seen arriving or could not be hashed).
   */
  digest(upload: string, listed: readonly number[]): Promise<PartsDigest | undefined> {
    const u = this.uploads.get(upload);
    if (!u || listed.some((n, i) => n !== i + 1)) return Promise.resolve(undefined);
    return new Promise((settle) => {
      u.waiting.push({ through: listed.length, settle });
      this.advance(upload, u);
    });
  }

  /** The upload was completed or aborted: its parts and states are gone. */
  forget(upload: string): void {
    if (!this.uploads.delete(upload) || !this.worker) return;
    void this.request({ op: 'forget', upload }).catch(() => undefined);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.lose(worker, new Error('local S3 front closed'));
    await worker.terminate();
  }

  private upload(id: string): Upload {
    let u = this.uploads.get(id);
    if (!u) this.uploads.set(id, (u = { parts: new Map(), writes: 0, hashed: 0, hashing: false, waiting: [] }));
    return u;
  }

  /** Hashes the next part when it is there, and answers the waits the prefix now decides. */
  private advance(id: string, u: Upload): void {
    if (this.uploads.get(id) !== u) return;
    const next = u.hashed + 1;
    const part = u.parts.get(next);
    u.waiting = u.waiting.filter((w) => {
      if (w.through <= u.hashed) w.settle(this.stateDigest(id, u, w.through));
      else if (!u.hashing && !part) w.settle(undefined);
      else return true;
      return false;
    });
    if (u.hashing || !part) return;
    u.hashing = true;
    const { generation } = part;
    void this.request({ op: 'extend', upload: id, after: u.hashed, file: part.file, length: part.length })
      .then(
        (reply) => {
          const current = u.parts.get(next)?.generation === generation;
          if (reply.error === undefined && current && u.hashed === next - 1) u.hashed = next;
          // A part s3rver took but whose file could not be read: the prefix cannot pass it.
          else if (reply.error !== undefined && current) u.parts.delete(next);
        },
        () => undefined,
      )
      .finally(() => {
        u.hashing = false;
        this.advance(id, u);
      });
  }

  /** Asked at once, so the worker answers from the state as it is now, before any later rewind is hashed. */
  private stateDigest(id: string, u: Upload, through: number): Promise<PartsDigest | undefined> {
    let size = 0;
    for (let n = 1; n <= through; n++) size += u.parts.get(n)!.length;
    return this.request({ op: 'digest', upload: id, after: through }).then(
      (reply) => (reply.sha256 && reply.md5 ? { size, sha256: reply.sha256, md5: reply.md5 } : undefined),
      () => undefined,
    );
  }

  private request(request: DistributiveOmit<ArrivalRequest, 'id'>): Promise<ArrivalReply> {
    const worker = this.worker ?? this.start();
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  }

  private start(): Worker {
    const worker = new Worker(new URL(WORKER_FILE, import.meta.url));
    // Local mode's process exits when its servers close; hashing in flight must not hold it.
    worker.unref();
    worker.on('message', (reply: ArrivalReply) => {
      const pending = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      pending?.resolve(reply);
    });
    worker.on('error', (error) => this.lose(worker, error));
    worker.on('exit', (code) => this.lose(worker, new Error(`the arrivals worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  /** Every running state went with the thread: uploads in progress fall back to hashing the object. */
  private lose(worker: Worker, error: unknown): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    for (const u of this.uploads.values()) for (const w of u.waiting) w.settle(undefined);
    this.uploads.clear();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
