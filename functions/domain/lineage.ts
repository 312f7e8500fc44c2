/**
 * Lineage (R-META records): upstream is what a version recorded at creation (exact `asset:version` specs)
 * and the run output it was promoted from; downstream is every version whose records name it, read from
 * edge items written once the version is created. A deleted version keeps its lineage both ways: records
 * are history, and the status tells a reader it is gone.
 */
import type { LineageRecord, VersionRef } from '../../contract/schemas.ts';
import { downstreamOf } from '../adapters/lineageRepo.ts';
import { getVersion } from '../adapters/versionsRepo.ts';
import { notFound } from '../shared/errors.ts';
import { effectiveStatus } from './model.ts';
import { formatSpec } from './spec.ts';
import { parseVersion } from './versions.ts';

/** `asset:version` → its parts (an asset name has no `:`, a version none either). */
const refOf = (spec: string): VersionRef => {
  const at = spec.lastIndexOf(':');
  return { asset: spec.slice(0, at), version: spec.slice(at + 1) };
};

export async function lineage(asset: string, rawVersion: string, page: { limit: number; cursor?: string }): Promise<LineageRecord> {
  const version = parseVersion(rawVersion);
  const item = await getVersion(asset, version);
  if (!item) throw notFound(`${asset} has no version ${version}`, { asset, version });
  const downstream = await downstreamOf(formatSpec(asset, version), page);
  return {
    asset,
    version,
    status: effectiveStatus(item),
    upstream: { records: item.records.map(refOf), ...(item.source ? { source: item.source } : {}) },
    downstream: { items: downstream.items.map(refOf), ...(downstream.nextCursor ? { nextCursor: downstream.nextCursor } : {}) },
  };
}
