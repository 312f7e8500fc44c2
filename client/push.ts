/**
 * `push` (R-CLIENT, R-UPLOAD): walk the inputs, hash each file (and each part) in one pass, declare the
 * version, upload only what the store lacks — parts in parallel, streamed from disk, retried, resumable —
 * then commit. An interrupted multipart upload is resumed on the next push of the same bytes: the resume
 * state's Idempotency-Key brings back the same version and uploadIds, fresh part URLs come from
 * `POST …/uploads/{uploadId}/parts`, and the parts that already arrived are skipped.
 */
import { createHash } from 'node:crypto';
import { stat, readdir } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { AssetType, CreateVersionRequest, FileDeclaration, FileRecord, MultipartInstructions, PartUrl, VersionRecord } from '../contract/schemas.ts';
import type { ArcaClient } from './client.ts';
import { DigestCache } from './digests.ts';
import { ArcaApiError, clientError } from './errors.ts';
import { hashFile } from './hash.ts';
import { newIdempotencyKey } from './http.ts';
import { runPool, withRetries } from './pool.ts';
import { PushRecords, ResumeStore, type UploadState } from './resume.ts';
import { TransferError } from './transfer.ts';

export interface PushProgress {
  phase: 'hash' | 'upload' | 'commit';
  /** Bytes done and to do in this phase. */
  done: number;
  total: number;
}

export interface PushOptions extends Pick<CreateVersionRequest, 'description' | 'tags' | 'hyperparameters' | 'config' | 'metrics' | 'records' | 'params'> {
  version?: string;
  bump?: CreateVersionRequest['bump'];
  /** Format label for every file; default: the service's, from the extension. */
  format?: string;
  /** Type of the asset when push has to create it. Default `model`. */
  type?: AssetType;
  publish?: boolean;
  alias?: string;
  /** Resume an interrupted upload of the same bytes to the same asset. Default true. */
  resume?: boolean;
  /** Attempts per part or file before giving up. Default 5. */
  attempts?: number;
  signal?: AbortSignal;
  onProgress?: (p: PushProgress) => void;
}

export interface PushResult {
  version: VersionRecord;
  /** Bytes this push sent, and bytes it did not have to send (already stored or resumed). */
  uploaded: number;
  skipped: number;
  resumed: boolean;
}

export interface LocalFile {
  /** Path inside the version (POSIX). */
  path: string;
  /** Where the bytes are on disk. */
  source: string;
  size: number;
}

/** Files given directly keep their base name; a directory's files keep their path relative to it. */
export async function collectFiles(inputs: string[]): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  const walk = async (dir: string, root: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const st = await stat(full);
      // Symlinked files are followed; symlinked directories are not (they can loop).
      if (st.isDirectory() && !entry.isSymbolicLink()) await walk(full, root);
      else if (st.isFile()) files.push({ path: relative(root, full).split(sep).join('/'), source: full, size: st.size });
    }
  };
  for (const input of inputs) {
    const st = await stat(input).catch(() => {
      throw clientError(`no such file or directory: ${input}`);
    });
    if (st.isDirectory()) await walk(input, input);
    else files.push({ path: basename(input), source: input, size: st.size });
  }
  if (files.length === 0) throw clientError(`nothing to push: ${inputs.join(', ')} holds no files`);
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw clientError(`two inputs give the same path "${f.path}" in the version; push them from one directory`);
    seen.add(f.path);
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Hashes each file (and its parts above the multipart threshold) in one pass, reusing cached digests. */
export async function declareFiles(
  client: ArcaClient,
  files: LocalFile[],
  opts: { format?: string; signal?: AbortSignal; onProgress?: (p: PushProgress) => void } = {},
): Promise<FileDeclaration[]> {
  const signal = opts.signal;
  const total = files.reduce((n, f) => n + f.size, 0);
  let hashed = 0;
  const declared: FileDeclaration[] = [];
  const digests = new DigestCache(client.cacheDir);
  for (const f of files) {
    const withParts = f.size > client.multipartThreshold;
    const key = await digests.key(f.source, withParts);
    let digest = await digests.get(key);
    if (digest?.size !== f.size) {
      digest = await hashFile(f.source, f.size, {
        withParts,
        signal,
        onBytes: (n) => opts.onProgress?.({ phase: 'hash', done: (hashed += n), total }),
      });
      await digests.set(key, digest);
    }
    declared.push({ path: f.path, size: f.size, sha256: digest.sha256, ...(opts.format ? { format: opts.format } : {}), ...(withParts ? { parts: digest.parts } : {}) });
  }

  return declared;
}

export interface Task {
  file: LocalFile;
  sha256: string;
  start: number;
  end: number;
  partNumber?: number;
  url: string;
  headers: Record<string, string>;
}

/**
 * The upload tasks of a declaration's answer (a version's or a run output's): a file the store holds is
 * skipped, a single PUT is one task, a multipart file one task per part `multipart` lists, less the parts it
 * names `done` (a resumed upload), which count as skipped.
 */
export async function planUploads(
  answered: readonly FileRecord[],
  files: readonly LocalFile[],
  verb: string,
  multipart: (rec: FileRecord, instructions: NonNullable<FileRecord['multipart']>) => Promise<{ urls: PartUrl[]; done?: ReadonlySet<number> }>,
): Promise<{ tasks: Task[]; skipped: number }> {
  const tasks: Task[] = [];
  let skipped = 0;
  for (const rec of answered) {
    const file = files.find((f) => f.path === rec.path);
    if (!file) throw clientError(`the service declared a file that was not ${verb}: ${rec.path}`);
    if (rec.state === 'present') {
      skipped += rec.size;
    } else if (rec.upload) {
      tasks.push({ file, sha256: rec.sha256, start: 0, end: rec.size, url: rec.upload.url, headers: rec.upload.headers });
    } else if (rec.multipart) {
      const { partSize } = rec.multipart;
      const { urls, done } = await multipart(rec, rec.multipart);
      for (const p of urls) {
        const start = (p.partNumber - 1) * partSize;
        const end = Math.min(rec.size, start + partSize);
        if (done?.has(p.partNumber)) skipped += end - start;
        else tasks.push({ file, sha256: rec.sha256, start, end, partNumber: p.partNumber, url: p.url, headers: p.headers });
      }
    } else {
      throw clientError(`the service gave no upload instructions for ${rec.path}`);
    }
  }
  return { tasks, skipped };
}

/** The resume-state fields naming what a declaration's uploads belong to (a version, or a run output). */
export type UploadTarget = Pick<UploadState, 'api' | 'asset' | 'version' | 'idempotencyKey' | 'requestHash'>;

/**
 * Multipart uploads whose parts are recorded in the resume store as they land, so that a re-run of the same
 * declaration (`resumed`: the service answered the same uploadIds) skips them: `plan` for planUploads, `reissue`
 * and `onDone` for uploadTasks, `clear` once committed. `parts` asks for fresh part URLs of one upload.
 */
export function trackedMultipart(store: ResumeStore, target: UploadTarget, resumed: boolean, parts: (uploadId: string, from: number) => Promise<MultipartInstructions>) {
  const states = new Map<string, UploadState>();
  return {
    plan: async (rec: FileRecord, multipart: { uploadId: string; partSize: number }) => {
      const prior = resumed ? await store.load(rec.sha256) : undefined;
      const state: UploadState = { ...target, uploadId: multipart.uploadId, partSize: multipart.partSize, done: prior?.uploadId === multipart.uploadId ? prior.done : [] };
      states.set(rec.sha256, state);
      await store.save(rec.sha256, state);
      // A replayed declaration hands back the first answer's URLs, which may have expired: ask for fresh ones.
      const urls = await allPartUrls(rec, resumed, (from) => parts(multipart.uploadId, from));
      return { urls, done: new Set(state.done) };
    },
    reissue: (task: Task, from: number) => parts(states.get(task.sha256)!.uploadId, from),
    onDone: async (task: Task) => {
      if (task.partNumber === undefined) return;
      const state = states.get(task.sha256)!;
      state.done.push(task.partNumber);
      await store.save(task.sha256, state);
    },
    clear: async () => {
      for (const sha of states.keys()) await store.remove(sha);
    },
  };
}

/** Whether one of these files has a resume state of this very target: a re-run of an interrupted upload. */
export async function hasResumeState(store: ResumeStore, target: UploadTarget, shas: readonly string[]): Promise<boolean> {
  for (const sha of shas) {
    const state = await store.load(sha);
    if (state && (Object.keys(target) as (keyof UploadTarget)[]).every((k) => state[k] === target[k])) return true;
  }
  return false;
}

export async function push(client: ArcaClient, name: string, inputs: string[], opts: PushOptions = {}): Promise<PushResult> {
  const signal = opts.signal;
  const files = await collectFiles(inputs);

  const declared = await declareFiles(client, files, opts);

  const request: CreateVersionRequest = {
    ...(opts.version ? { version: opts.version } : {}),
    ...(opts.bump ? { bump: opts.bump } : {}),
    files: declared,
    ...pickDefined(opts, ['description', 'tags', 'hyperparameters', 'config', 'metrics', 'records', 'params']),
  };

  const store = new ResumeStore(client.cacheDir);
  const multipartShas = declared.filter((d) => d.parts).map((d) => d.sha256);
  const requestHash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
  const pushes = new PushRecords(client.cacheDir);
  const pushed = { api: client.url, asset: name, requestHash };
  const earlier = opts.resume === false ? undefined : await earlierPush(client, pushes, pushed);
  // The same push, interrupted once the version was made and run again: report that version, not a second one.
  if (earlier?.status === 'ready' || earlier?.status === 'published') {
    const { idempotencyKey: _key, ...made } = earlier;
    const version = await finish(client, name, made, opts);
    await pushes.remove(pushed);
    return { version, uploaded: 0, skipped: declared.reduce((n, d) => n + d.size, 0), resumed: true };
  }
  const previous = opts.resume === false ? undefined : await findResumable(client, store, name, requestHash, multipartShas);
  const idempotencyKey = previous?.idempotencyKey ?? earlier?.idempotencyKey ?? newIdempotencyKey();
  const created = await createVersionEnsuringAsset(client, name, request, idempotencyKey, opts.type ?? 'model', signal);
  await pushes.save({ ...pushed, version: created.version, idempotencyKey });
  const resumed = (previous ?? earlier) !== undefined && (previous ?? earlier)!.version === created.version;

  const tracked = trackedMultipart(store, { api: client.url, asset: name, version: created.version, idempotencyKey, requestHash }, resumed, (uploadId, from) =>
    client.uploadParts(name, created.version, uploadId, from, signal),
  );
  const { tasks, skipped } = await planUploads(created.files, files, 'pushed', tracked.plan);
  const before = client.transfers.stats.bytesUploaded;
  await uploadTasks(client, tasks, tracked.reissue, { ...opts, onDone: tracked.onDone });

  opts.onProgress?.({ phase: 'commit', done: 0, total: 0 });
  let version = await commitUntilReady(
    `${name}:${created.version}`,
    () => client.commit(name, created.version, signal),
    () => client.getVersion(name, created.version),
    signal,
  );
  await tracked.clear();
  version = await finish(client, name, version, opts);
  await pushes.remove(pushed);
  return { version, uploaded: client.transfers.stats.bytesUploaded - before, skipped, resumed };
}

/** What a push does once its version is ready: publish and alias it when asked (both are idempotent). */
async function finish(client: ArcaClient, name: string, version: VersionRecord, opts: PushOptions): Promise<VersionRecord> {
  if (opts.publish && version.status !== 'published') version = await client.publish(name, version.version);
  if (opts.alias) await client.setAlias(name, opts.alias, version.version);
  if (opts.alias || opts.publish) version = await client.getVersion(name, version.version);
  return version;
}

/**
 * The version an earlier run of this very push made and did not see through (its record is still there), with
 * the Idempotency-Key that made it; `undefined` when there is none, or it was deleted since.
 */
async function earlierPush(client: ArcaClient, pushes: PushRecords, pushed: Parameters<PushRecords['load']>[0]): Promise<(VersionRecord & { idempotencyKey: string }) | undefined> {
  const record = await pushes.load(pushed);
  if (!record) return undefined;
  const current = await client.getVersion(record.asset, record.version).catch((err: unknown) => {
    if (err instanceof ArcaApiError && err.code === 'NotFound') return undefined;
    throw err;
  });
  if (!current || current.status === 'deleted') {
    await pushes.remove(pushed);
    return undefined;
  }
  return { ...current, idempotencyKey: record.idempotencyKey };
}

/**
 * Sends the bytes of `tasks` (whole files and parts) in parallel, streamed from disk, with retries; an
 * expired part URL is replaced once through `reissue` (`POST …/uploads/{uploadId}/parts`).
 */
export async function uploadTasks(
  client: ArcaClient,
  tasks: Task[],
  reissue: (task: Task, from: number) => Promise<MultipartInstructions>,
  opts: { attempts?: number; signal?: AbortSignal; onProgress?: (p: PushProgress) => void; onDone?: (task: Task) => Promise<void> } = {},
): Promise<void> {
  const signal = opts.signal;
  const toSend = tasks.reduce((n, t) => n + t.end - t.start, 0);
  let sent = 0;
  opts.onProgress?.({ phase: 'upload', done: 0, total: toSend });
  await runPool(tasks, client.concurrency, signal, async (task) => {
    let url = task.url;
    let headers = task.headers;
    let progress = 0;
    let refreshed = false;
    await withRetries(
      opts.attempts ?? 5,
      signal,
      async () => {
        sent -= progress;
        progress = 0;
        try {
          await client.transfers.put(url, headers, task.file.source, { start: task.start, end: task.end }, {
            signal,
            onBytes: (n) => {
              progress += n;
              opts.onProgress?.({ phase: 'upload', done: (sent += n), total: toSend });
            },
          });
        } catch (err) {
          // Create-only blob writes: 412 means the bytes are already there (another push won the race).
          if (err instanceof TransferError && err.status === 412 && task.partNumber === undefined) return;
          if (err instanceof TransferError && err.status === 403 && task.partNumber !== undefined && !refreshed) {
            // An expired part URL: ask once for a fresh one, then try again.
            const fresh = await reissue(task, task.partNumber);
            const p = fresh.parts.find((x) => x.partNumber === task.partNumber);
            if (p) ({ url, headers } = p);
            refreshed = true;
            throw new TransferError(err.message, 503, err);
          }
          throw err;
        }
      },
      (err) => err instanceof TransferError && err.retryable,
    );
    await opts.onDone?.(task);
  });

}

/** How long push keeps asking for a commit that the service could not finish in one request. */
const COMMIT_DEADLINE_MS = 15 * 60 * 1000;

/**
 * Commit is idempotent and the version also becomes ready on its own once its bytes are verified
 * (R-UPLOAD), so a commit that times out or fails on the server's side is retried, checking the version's status
 * in between, until it is ready or a deadline passes. A commit answered 202 (the service is still hashing a
 * large file) is repeated the same way: a later one answers ready, or 422 when the bytes turned out wrong.
 */
export async function commitUntilReady<T extends { status: string }>(
  what: string,
  commit: () => Promise<T>,
  current: () => Promise<T | undefined>,
  signal?: AbortSignal,
): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    let committed: T | undefined;
    try {
      committed = await commit();
    } catch (err) {
      const transient = err instanceof ArcaApiError && (err.code === 'NetworkError' || err.code === 'Throttled' || (err.status ?? 0) >= 500);
      if (!transient || Date.now() - started > COMMIT_DEADLINE_MS) throw err;
    }
    if (committed && committed.status !== 'pending') return committed;
    if (committed && Date.now() - started > COMMIT_DEADLINE_MS) {
      throw clientError(`${what} is still being verified after ${COMMIT_DEADLINE_MS / 60_000} min; commit it again later`);
    }
    await new Promise((r) => setTimeout(r, Math.min(10_000, 1000 * attempt)));
    signal?.throwIfAborted();
    if (committed) continue;
    const now = await current().catch(() => undefined);
    if (now && now.status !== 'pending') return now;
  }
}

function pickDefined<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** A resume state of this very request for one of these files, whose version still waits for its bytes. */
async function findResumable(client: ArcaClient, store: ResumeStore, name: string, requestHash: string, shas: string[]): Promise<UploadState | undefined> {
  for (const sha of shas) {
    const state = await store.load(sha);
    if (!state || state.api !== client.url || state.asset !== name || state.requestHash !== requestHash) continue;
    const current = await client.getVersion(name, state.version).catch(() => undefined);
    if (current?.status === 'pending') return state;
    await store.remove(sha);
  }
  return undefined;
}

async function createVersionEnsuringAsset(
  client: ArcaClient,
  name: string,
  request: CreateVersionRequest,
  idempotencyKey: string,
  type: AssetType,
  signal?: AbortSignal,
): Promise<VersionRecord> {
  try {
    return await client.createVersion(name, request, { idempotencyKey, signal });
  } catch (err) {
    if (!(err instanceof ArcaApiError) || err.code !== 'NotFound') throw err;
    // First push of a new asset: create it, then declare the version (a concurrent creator is fine).
    await client.createAsset({ name, type }).catch((e: unknown) => {
      if (!(e instanceof ArcaApiError) || e.code !== 'AlreadyExists') throw e;
    });
    return client.createVersion(name, request, { idempotencyKey, signal });
  }
}

/** Every part URL of a multipart upload, following `nextPart` (at most 1,000 URLs per answer). */
export async function allPartUrls(rec: FileRecord, fresh: boolean, more: (from: number) => Promise<MultipartInstructions>): Promise<PartUrl[]> {
  let page = fresh ? await more(1) : rec.multipart!;
  const urls = [...page.parts];
  while (page.nextPart !== undefined) {
    page = await more(page.nextPart);
    urls.push(...page.parts);
  }
  return urls;
}
