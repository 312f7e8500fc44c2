/** One file of a version, as a presigned download URL. */
import { presignGet } from '../adapters/presign.ts';
import { conflict, notFound } from '../shared/errors.ts';
import { objectKeyOf, type StoredFile } from './model.ts';
import { liveVersion } from './versionReads.ts';

export async function downloadUrl(asset: string, version: string, path: string): Promise<string> {
  const item = await liveVersion(asset, version);
  if (item.status === 'pending') throw conflict('VersionNotReady', `${asset}:${item.version} is not ready: its bytes are not all verified`);
  const file = item.files.find((f) => f.path === path && f.verified);
  if (!file) throw notFound(`${asset}:${item.version} has no file ${path}`, { path });
  return fileUrl(file);
}

/** A stored file's presigned GET, offering it under the last segment of its path. */
export const fileUrl = (file: Pick<StoredFile, 'key' | 'sha256' | 'path' | 'contentType'>): Promise<string> =>
  presignGet(objectKeyOf(file), file.path.slice(file.path.lastIndexOf('/') + 1), file.contentType);
