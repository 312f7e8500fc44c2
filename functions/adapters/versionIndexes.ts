/**
 * The sparse indexes of the versions table (contract/tables.ts `live`, `stable`, `published`): which index
 * attributes a version carries in each status, and which index partition a resolve span reads. Free of
 * environment side effects, so operator scripts (bin/backfill-published.ts) share it with the API.
 */
import { publishedKey } from '../../contract/tables.ts';
import type { VersionItem } from '../domain/model.ts';
import type { IndexSpan } from '../domain/spec.ts';
import { isPrerelease } from '../domain/versions.ts';

export interface IndexAttributes {
  liveAsset?: string;
  stableAsset?: string;
  publishedAsset?: string;
}

/** Every index attribute: a tombstone REMOVEs them all, so a deleted version leaves every index. */
export const INDEX_ATTRIBUTE_NAMES = ['liveAsset', 'stableAsset', 'publishedAsset'] as const satisfies readonly (keyof IndexAttributes)[];

/** The index attributes a version carries in a given status (undefined ones are absent: the item is not in that index). */
export function indexAttributes(asset: string, version: string, status: VersionItem['status']): IndexAttributes {
  const resolvable = status === 'ready' || status === 'published';
  const prerelease = isPrerelease(version);
  return {
    liveAsset: resolvable ? asset : undefined,
    stableAsset: resolvable && !prerelease ? asset : undefined,
    publishedAsset: status === 'published' ? publishedKey(asset, prerelease) : undefined,
  };
}

/**
 * The index, partition attribute and partition value a span reads. With `publishedOnly`, a `stable` span reads the
 * published releases and a `live` span the published pre-releases only: every `live` span of a plan lies inside
 * a `stable` span of the same plan (functions/domain/spec.ts `rangePlan`), which finds the releases among its keys.
 */
export function spanPartition(asset: string, span: IndexSpan, publishedOnly: boolean): { index: string; attribute: string; value: string } {
  if (publishedOnly) return { index: 'published', attribute: 'publishedAsset', value: publishedKey(asset, span.index === 'live') };
  return span.index === 'live' ? { index: 'live', attribute: 'liveAsset', value: asset } : { index: 'stable', attribute: 'stableAsset', value: asset };
}
