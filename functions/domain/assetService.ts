/** Assets: create, read (with live count, latest and aliases), edit with If-Match, list, delete. */
import type { AssetRecord, CreateAssetRequest, UpdateAssetRequest } from '../../contract/schemas.ts';
import { allAliasKeys, listAliases } from '../adapters/aliasesRepo.ts';
import { auditPut } from '../adapters/auditRepo.ts';
import { deleteAssetCascade, getAsset, listAssets, putNewAsset, updateAsset, type AssetQuery } from '../adapters/assetsRepo.ts';
import { allVersionKeys, queryResolvable } from '../adapters/versionsRepo.ts';
import { ArcaError, notFound, validationError } from '../shared/errors.ts';
import { CONTENTION_ATTEMPTS, contended, contentionBackoff } from './contention.ts';
import { nowIso, type Actor, type AssetItem } from './model.ts';
import { parseAliasName } from './aliasNames.ts';
import { parseAssetName } from './names.ts';
import { assetRecord, assetSummary, etagOf, ifMatchHolds, type AssetSummary } from './views.ts';

const missing = (name: string) => notFound(`asset ${name} does not exist`, { name });

/** Who may change an asset's protected aliases: a publisher or above (writers would otherwise lift the protection). */
function mayProtect(name: string, from: readonly string[], to: readonly string[] | undefined, actor: Actor): void {
  if (to === undefined || actor.isPublisher) return;
  const same = from.length === to.length && to.every((a) => from.includes(a));
  if (!same) throw new ArcaError('Forbidden', `${actor.principal} needs the publisher role on ${name} to change its protectedAliases`, { role: 'publisher', name });
}

const protectedList = (list: readonly string[] | undefined): string[] | undefined => list?.map(parseAliasName);

export async function createAsset(req: CreateAssetRequest, actor: Actor): Promise<AssetRecord> {
  const name = parseAssetName(req.name);
  const protectedAliases = protectedList(req.protectedAliases) ?? [];
  mayProtect(name, [], protectedAliases, actor);
  const now = nowIso();
  const item: AssetItem = {
    name,
    type: req.type,
    description: req.description,
    tags: req.tags ?? [],
    capPolicy: req.capPolicy ?? 'refuse',
    protectedAliases,
    liveCount: 0,
    createdAt: now,
    createdBy: actor.principal,
    updatedAt: now,
    rev: 1,
  };
  await putNewAsset(item, auditPut({ action: 'asset.create', actor: actor.principal, requestId: actor.requestId, asset: name, at: now }));
  return assetRecord(item, undefined, []);
}

export async function getAssetRecord(name: string): Promise<AssetRecord> {
  const [item, aliases, latest] = await Promise.all([
    getAsset(name),
    listAliases(name),
    queryResolvable(name, { spans: [{ index: 'stable' }], limit: 1, publishedOnly: false }, (items) => items[0]),
  ]);
  if (!item) throw missing(name);
  return assetRecord(item, latest?.version, aliases.items);
}

export async function editAsset(name: string, patch: UpdateAssetRequest, ifMatch: string | undefined, actor: Actor): Promise<AssetRecord> {
  for (let attempt = 0; attempt < CONTENTION_ATTEMPTS; attempt++) {
    const current = await getAsset(name, true);
    if (!current) throw missing(name);
    if (!ifMatchHolds(ifMatch, current.rev)) {
      throw new ArcaError('PreconditionFailed', `If-Match ${ifMatch} does not match the current ETag ${etagOf(current.rev)}`, {
        etag: etagOf(current.rev),
      });
    }
    const protectedAliases = protectedList(patch.protectedAliases);
    mayProtect(name, current.protectedAliases, protectedAliases, actor);
    const next: AssetItem = { ...current, ...patch, protectedAliases: protectedAliases ?? current.protectedAliases, updatedAt: nowIso(), updatedBy: actor.principal };
    const audit = auditPut({ action: 'asset.edit', actor: actor.principal, requestId: actor.requestId, asset: name, at: next.updatedAt });
    const { updated } = await updateAsset(next, current.rev, audit);
    if (updated) return getAssetRecord(name);
    await contentionBackoff(attempt);
  }
  // Of the spec's 409 codes, AlreadyExists is the one about the asset item itself: another change is already
  // there each time this one tries to land. `details.reason` tells it from a create's conflict.
  throw contended('AlreadyExists', `asset ${name} kept changing while this request tried to edit it; try again`, { name });
}

/** Deletes the asset, its versions and aliases; blobs are left to the garbage collector. */
export async function deleteAsset(name: string, opts: { force: boolean; reason?: string }, actor: Actor): Promise<void> {
  const current = await getAsset(name, true);
  if (!current) throw missing(name);
  if (current.liveCount > 0 && !(opts.force && opts.reason?.trim())) {
    throw validationError(`asset ${name} has ${current.liveCount} live version${current.liveCount === 1 ? '' : 's'}: delete it with force=true and a reason`, {
      liveVersions: current.liveCount,
    });
  }
  const deleteReason = opts.reason?.trim() || undefined;
  const now = nowIso();
  const audit = auditPut({ action: 'asset.delete', actor: actor.principal, requestId: actor.requestId, asset: name, reason: deleteReason, at: now });
  await deleteAssetCascade(name, await allVersionKeys(name), await allAliasKeys(name), {
    deletedBy: actor.principal,
    deleteReason,
    requestId: actor.requestId,
    now,
    audit,
  });
}

/** One page of assets; `canRead` hides the assets the caller has no role on. */
export async function listAssetSummaries(
  query: AssetQuery,
  canRead: (name: string) => boolean,
): Promise<{ items: AssetSummary[]; nextCursor?: string }> {
  const page = await listAssets(query);
  return { items: page.items.filter((a) => canRead(a.name)).map(assetSummary), nextCursor: page.nextCursor };
}
