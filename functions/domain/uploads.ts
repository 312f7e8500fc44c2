/**
 * Upload instructions (R-UPLOAD): `present` for verified blobs, one presigned PUT below the multipart
 * threshold, or a multipart upload with at most 1,000 part URLs per response.
 */
import { uploadKey, uploadNonce } from '../../contract/keys.ts';
import type { FileRecord, MultipartInstructions } from '../../contract/schemas.ts';
import { presignPart, presignPut } from '../adapters/presign.ts';
import { abortMultipartUpload, createMultipartUpload } from '../adapters/s3.ts';
import { validationError } from '../shared/errors.ts';
import { mapInTurn } from '../shared/inTurn.ts';
import { partCount, partDigests, partLength } from './files.ts';
import { objectKeyOf, type StoredFile } from './model.ts';
import { fileRecord } from './views.ts';

export const PART_URLS_PER_RESPONSE = 1000;

/** What the object's metadata names as the version waiting for it (read by the ObjectCreated job). */
export const waitingTag = (asset: string, version: string): string => `${asset}@${version}`;

/** What the object's metadata names when a run output waits for it (no `@`: never read as a version). */
const OUTPUT_TAG = 'output:';
export const outputWaitingTag = (flow: string, run: string, name: string): string => `${OUTPUT_TAG}${flow}/${run}/${name}`;

export type Waiting = { kind: 'version'; asset: string; version: string } | { kind: 'output'; flow: string; run: string; name: string };

export function parseWaitingTag(tag: string): Waiting | undefined {
  if (tag.startsWith(OUTPUT_TAG)) {
    const [flow, run, name, ...rest] = tag.slice(OUTPUT_TAG.length).split('/');
    return flow && run && name && rest.length === 0 ? { kind: 'output', flow, run, name } : undefined;
  }
  const at = tag.lastIndexOf('@');
  return at > 0 ? { kind: 'version', asset: tag.slice(0, at), version: tag.slice(at + 1) } : undefined;
}

/**
 * Files as a create finds them in the Blobs table: a verified digest is `present` and points at the object
 * holding its verified bytes; any other file is unverified (whatever key it carried, e.g. a promoted output's).
 */
export const withVerified = (files: readonly StoredFile[], verified: ReadonlyMap<string, string>): StoredFile[] =>
  files.map((f) => {
    const key = verified.get(f.sha256);
    return key === undefined ? { ...f, verified: false } : { ...f, key, verified: true };
  });

/**
 * Gives each unverified file an object key of its own (one per distinct digest of this call), starts a
 * multipart upload for each multipart one, and returns the files with their `key` and `uploadId`; `abort`
 * undoes the multipart uploads when the version is not stored after all.
 */
export async function startUploads(files: StoredFile[], waiting: string): Promise<{ files: StoredFile[]; abort: () => Promise<void> }> {
  const keys = new Map<string, string>();
  const started = new Map<string, string>();
  for (const f of files) {
    if (f.verified || keys.has(f.sha256)) continue;
    const key = uploadKey(f.sha256, uploadNonce());
    keys.set(f.sha256, key);
    if (f.parts) started.set(key, await createMultipartUpload(key, waiting));
  }
  return {
    files: files.map((f) => {
      const key = f.verified ? undefined : keys.get(f.sha256);
      if (key === undefined) return f;
      const { uploadId: _stale, ...rest } = f;
      const uploadId = started.get(key);
      return uploadId === undefined ? { ...rest, key } : { ...rest, key, uploadId };
    }),
    abort: async () => {
      await Promise.all([...started].map(([key, id]) => abortMultipartUpload(key, id)));
    },
  };
}

export async function partUrls(file: StoredFile, from: number): Promise<MultipartInstructions> {
  if (!file.uploadId || !file.partSize) throw new Error(`file ${file.path} has no multipart upload`);
  const total = partCount(file.size, file.partSize);
  if (from > total) throw validationError(`part ${from} is past the last part (${total})`, { from, parts: total });
  const digests = partDigests(file);
  const last = Math.min(total, from + PART_URLS_PER_RESPONSE - 1);
  const { uploadId, partSize } = file;
  const key = objectKeyOf(file);
  const parts = await mapInTurn(
    Array.from({ length: last - from + 1 }, (_, i) => from + i),
    (n) => presignPart(key, uploadId, n, partLength(file.size, partSize, n), digests[n - 1] as string),
  );
  return { uploadId, partSize, parts, ...(last < total ? { nextPart: last + 1 } : {}) };
}

/** The file records of a create/add-files response, each with what the client must do. */
export async function instructions(files: StoredFile[], waiting: string): Promise<FileRecord[]> {
  return mapInTurn(files, async (f): Promise<FileRecord> => {
    if (f.verified) return { ...fileRecord(f), state: 'present' };
    if (f.uploadId) return { ...fileRecord(f), multipart: await partUrls(f, 1) };
    return { ...fileRecord(f), upload: await presignPut(objectKeyOf(f), f.sha256, f.size, waiting) };
  });
}
