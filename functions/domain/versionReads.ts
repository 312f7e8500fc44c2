/**
 * Reading versions: the read function's share of the version rules, kept apart from versionService.ts so its
 * bundle holds no S3 client and no upload code (issue 11).
 */
import type { VersionRecord } from '../../contract/schemas.ts';
import { getAsset } from '../adapters/assetsRepo.ts';
import { getVersion, listVersions, type VersionFilter } from '../adapters/versionsRepo.ts';
import { notFound } from '../shared/errors.ts';
import { isExpired, type VersionItem } from './model.ts';
import { parseVersion } from './versions.ts';
import { versionRecord } from './views.ts';

/** A version that exists and is not a tombstone (an expired pending version counts as one). */
export async function liveVersion(asset: string, rawVersion: string, consistent = false): Promise<VersionItem> {
  const version = parseVersion(rawVersion);
  const item = await getVersion(asset, version, consistent);
  if (!item || item.status === 'deleted' || isExpired(item)) throw notFound(`${asset} has no version ${version}`, { asset, version });
  return item;
}

export async function getVersionRecord(asset: string, version: string): Promise<VersionRecord> {
  return versionRecord(await liveVersion(asset, version));
}

export async function listVersionRecords(asset: string, filter: VersionFilter): Promise<{ items: VersionRecord[]; nextCursor?: string }> {
  if (!(await getAsset(asset))) throw notFound(`asset ${asset} does not exist`, { name: asset });
  const page = await listVersions(asset, filter);
  const items = page.items
    .map((i) => versionRecord(i))
    .filter((r) => (filter.status ? r.status === filter.status : filter.includeDeleted || r.status !== 'deleted'));
  return { items, nextCursor: page.nextCursor };
}
