/**
 * Resume state of multipart uploads, one small JSON file per file being uploaded, keyed by the file's
 * SHA-256 under `<cacheDir>/uploads/`. It records the version and uploadId the bytes go to, the
 * Idempotency-Key that created the version (so asking again returns the same version and uploads), and
 * which parts already arrived. Deleted once the version is committed.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface UploadState {
  api: string;
  asset: string;
  version: string;
  idempotencyKey: string;
  /** SHA-256 of the create-version request: the key is reused only for the very same request. */
  requestHash: string;
  uploadId: string;
  partSize: number;
  /** Part numbers known to have arrived. */
  done: number[];
}

export class ResumeStore {
  private readonly dir: string;
  /** Writes per file are chained so that a slow write never overwrites a newer one. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(cacheDir: string) {
    this.dir = join(cacheDir, 'uploads');
  }

  private file(sha256: string): string {
    return join(this.dir, `${sha256}.json`);
  }

  async load(sha256: string): Promise<UploadState | undefined> {
    try {
      const s = JSON.parse(await readFile(this.file(sha256), 'utf8')) as Partial<UploadState>;
      if (typeof s.uploadId !== 'string' || typeof s.version !== 'string' || typeof s.idempotencyKey !== 'string' || typeof s.requestHash !== 'string' || !Array.isArray(s.done)) return undefined;
      return s as UploadState;
    } catch {
      // A missing or torn state file only means there is nothing to resume.
      return undefined;
    }
  }

  save(sha256: string, state: UploadState): Promise<void> {
    const snapshot = JSON.stringify({ ...state, done: [...state.done].sort((a, b) => a - b) });
    const next = (this.queues.get(sha256) ?? Promise.resolve()).then(async () => {
      await mkdir(this.dir, { recursive: true });
      const tmp = `${this.file(sha256)}.${process.pid}.tmp`;
      await writeFile(tmp, snapshot);
      await rename(tmp, this.file(sha256));
    });
    this.queues.set(sha256, next.catch(() => undefined));
    return next;
  }

  async remove(sha256: string): Promise<void> {
    await this.queues.get(sha256);
    await rm(this.file(sha256), { force: true });
  }
}

/**
 * What a push made, recorded as soon as the service answered its create: the version and the Idempotency-Key
 * of that create, under `<cacheDir>/pushes/<key>.json`, keyed by SHA-256 of the API, the asset and the
 * create request (which names every file's SHA-256). A push interrupted after that (Ctrl-C while the service
 * verifies the bytes, a dead connection) and run again finds it: a version that became ready is reported
 * instead of making a second one, a pending one is taken up again. Deleted once the push has finished.
 */
export interface PushRecord {
  api: string;
  asset: string;
  requestHash: string;
  version: string;
  idempotencyKey: string;
}

export class PushRecords {
  private readonly dir: string;

  constructor(cacheDir: string) {
    this.dir = join(cacheDir, 'pushes');
  }

  private file(of: Pick<PushRecord, 'api' | 'asset' | 'requestHash'>): string {
    return join(this.dir, `${createHash('sha256').update(`${of.api}\n${of.asset}\n${of.requestHash}`).digest('hex')}.json`);
  }

  async load(of: Pick<PushRecord, 'api' | 'asset' | 'requestHash'>): Promise<PushRecord | undefined> {
    try {
      const r = JSON.parse(await readFile(this.file(of), 'utf8')) as Partial<PushRecord>;
      if (r.api !== of.api || r.asset !== of.asset || r.requestHash !== of.requestHash || typeof r.version !== 'string' || typeof r.idempotencyKey !== 'string') return undefined;
      return r as PushRecord;
    } catch {
      return undefined; // missing or torn: nothing was recorded
    }
  }

  async save(record: PushRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = this.file(record);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(record));
    await rename(tmp, file);
  }

  async remove(of: Pick<PushRecord, 'api' | 'asset' | 'requestHash'>): Promise<void> {
    await rm(this.file(of), { force: true });
  }
}
