/**
 * A multipart upload assembled and hashed by local mode's S3 front while its parts arrive, so that completing
 * it neither concatenates 1 GiB on s3rver's side nor has the service read the object back to hash it (R-STORE).
 *
 * Per upload, a worker thread (local/arrivals-worker.ts) keeps a running SHA-256 over the in-order prefix
 * of parts, reading each part from the file s3rver stored once the front has seen s3rver accept it, and writes the
 * same bytes into a staging file. A part that arrives ahead of the prefix waits on disk until the prefix reaches
 * it; a part stored again (or lost to a failed write) rewinds the prefix to just before it.
 *
 * At CompleteMultipartUpload (`seal`), when the listed parts are exactly 1..k and each is still the write the
 * front saw (its ETag, s3rver's MD5 of the part, unchanged), the staging file cut to those k parts becomes the
 * object (local/s3.ts) and its digest is known: computed over the very bytes the object holds. Any other list,
 * or a part the front did not see or that changed behind it, gets nothing: s3rver concatenates the parts itself
 * and the service hashes the object as before.
 */
import { createHash } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Logger } from '@aws-lambda-powertools/logger';
import type { ArrivalReply, ArrivalRequest } from './arrivals-worker.ts';

export interface StagedObject {
  /** The staging file holding the listed parts, concatenated. */
  file: string;
  size: number;
  sha256: string;
  /** The object's ETag as S3 makes it for a multipart upload: the MD5 of the parts' MD5s, `-` their count. */
  etag: string;
}

interface Part {
  file: string;
  length: number;
  /** s3rver's MD5 of the part, read when the front saw the write. */
  md5: string;
  /** Bumped by every write the front saw, so a hash of an older write is not taken for the current one. */
  generation: number;
}

interface Upload {
  parts: Map<number, Part>;
  writes: number;
  /** Parts 1..hashed are in the worker's running state and the staging file. */
  hashed: number;
  /** `through[k]`: the bytes of parts 1..k, valid for k ≤ hashed (parts below the prefix's end never change under it). */
  through: number[];
  hashing: boolean;
  /** Set by `seal`: no part is hashed past `through` any more. */
  sealing?: { through: number; settle: (staged: StagedObject | undefined | Promise<StagedObject | undefined>) => void; timer: NodeJS.Timeout };
}

type Pending = { resolve: (reply: ArrivalReply) => void; reject: (error: unknown) => void };

/** Its own logger: the shared one carries the keys of whichever request the handlers served last. */
const logger = new Logger({ serviceName: 'arca', persistentKeys: { component: 's3-front' } });

// The TypeScript source in a clone (run by tsx or Node's type stripping), as client/hash.ts finds its worker.
const WORKER_FILE = import.meta.url.endsWith('.ts') ? './arrivals-worker.ts' : './arrivals-worker.js';

export class Arrivals {
  private readonly uploads = new Map<string, Upload>();
  private readonly pending = new Map<number, Pending>();
  private worker: Worker | undefined;
  private nextId = 0;

  /**
   * @param stagingDir where objects are assembled: on the store's file system, so one becomes an object by a rename
   * @param sealWaitMs how long `seal` waits for the last parts to be hashed
   */
  constructor(
    private readonly stagingDir: string,
    private readonly sealWaitMs: number,
  ) {}

  /** The front saw s3rver answer a part's write: `stored` when it took the part (200), else undefined. */
  partWritten(upload: string, partNumber: number, stored: { file: string; length: number; md5: string } | undefined): void {
    const u = this.upload(upload);
    if (u.sealing) return this.forget(upload);
    if (stored) u.parts.set(partNumber, { ...stored, generation: ++u.writes });
    else u.parts.delete(partNumber);
    if (partNumber <= u.hashed) u.hashed = partNumber - 1;
    this.advance(upload, u);
  }

  /**
   * The object of parts `listed` (with the ETags a Complete names), assembled, once the prefix has reached the last
   * of them; undefined when it cannot be (see the module comment) or takes longer than `sealWaitMs`. Either way the
   * upload is done with here: the caller `forget`s it.
   */
  seal(upload: string, listed: readonly { number: number; etag?: string }[]): Promise<StagedObject | undefined> {
    const u = this.uploads.get(upload);
    const seen = listed.every((p, i) => p.number === i + 1 && u?.parts.get(p.number)?.md5 === p.etag);
    if (!u || u.sealing || !seen) return Promise.resolve(undefined);
    return new Promise((settle) => {
      const timer = setTimeout(() => this.forget(upload), this.sealWaitMs);
      u.sealing = { through: listed.length, settle, timer };
      this.advance(upload, u);
    });
  }

  /** The upload was completed or aborted: its parts, states and staging file are gone. */
  forget(upload: string): void {
    const u = this.uploads.get(upload);
    if (!u) return;
    this.uploads.delete(upload);
    if (u.sealing) {
      clearTimeout(u.sealing.timer);
      u.sealing.settle(undefined);
    }
    // After the hashing posted before it, so no part is written to the staging file once it is gone.
    if (this.worker) void this.request({ op: 'forget', upload, staging: this.staging(upload) }).catch(() => undefined);
    else void unlink(this.staging(upload)).catch(() => undefined);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.lose(worker);
    await worker.terminate();
  }

  private upload(id: string): Upload {
    let u = this.uploads.get(id);
    if (!u) this.uploads.set(id, (u = { parts: new Map(), writes: 0, hashed: 0, through: [0], hashing: false }));
    return u;
  }

  private staging(upload: string): string {
    return path.join(this.stagingDir, upload.replace(/[^A-Za-z0-9_-]/g, '_'));
  }

  /** Hashes the next part when it is there, and settles a seal the prefix now decides. */
  private advance(id: string, u: Upload): void {
    if (this.uploads.get(id) !== u || u.hashing) return;
    const next = u.hashed + 1;
    const part = u.parts.get(next);
    const sealing = u.sealing;
    if (sealing && sealing.through <= u.hashed) {
      clearTimeout(sealing.timer);
      sealing.settle(this.sealed(id, u, sealing.through));
      return;
    }
    if (!part) {
      if (sealing) this.forget(id);
      return;
    }
    u.hashing = true;
    const { generation } = part;
    const offset = u.through[u.hashed]!;
    void this.request({ op: 'extend', upload: id, after: u.hashed, file: part.file, length: part.length, staging: this.staging(id), offset })
      .then(
        (reply) => {
          const current = u.parts.get(next)?.generation === generation;
          if (reply.error === undefined && current && u.hashed === next - 1) {
            u.through[next] = offset + part.length;
            u.hashed = next;
          }
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

  private sealed(id: string, u: Upload, through: number): Promise<StagedObject | undefined> {
    const size = u.through[through]!;
    const file = this.staging(id);
    const md5s = Array.from({ length: through }, (_, i) => Buffer.from(u.parts.get(i + 1)!.md5, 'hex'));
    const etag = `${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${through}`;
    return this.request({ op: 'seal', upload: id, after: through, staging: file, size }).then(
      (reply) => (reply.sha256 ? { file, size, sha256: reply.sha256, etag } : undefined),
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

  /** Every running state went with the thread: uploads in progress are completed and hashed as before. */
  private lose(worker: Worker, error?: unknown): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    // Nothing breaks without the thread, so say why multipart files are suddenly hashed after completion.
    if (error !== undefined) logger.warn('the S3 front lost its hashing thread; multipart uploads in progress are hashed after completion', { error });
    for (const p of this.pending.values()) p.reject(error ?? new Error('local S3 front closed'));
    this.pending.clear();
    for (const id of [...this.uploads.keys()]) this.forget(id);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
