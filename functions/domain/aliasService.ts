/** Aliases (R-ALIAS): list, move (one transaction keeping the versions' alias sets in step), delete. */
import type { AliasRecord } from '../../contract/schemas.ts';
import { deleteAlias as deleteAliasTx, getAlias, listAliases, moveAlias } from '../adapters/aliasesRepo.ts';
import { getAsset } from '../adapters/assetsRepo.ts';
import { auditPut } from '../adapters/auditRepo.ts';
import { conditionFailed, type CancelReason } from '../adapters/dynamo.ts';
import { ArcaError, conflict, notFound } from '../shared/errors.ts';
import { VersionItem, nowIso, type Actor } from './model.ts';
import { parseAliasName } from './aliasNames.ts';
import { contended, contentionBackoff } from './contention.ts';
import { parseVersion } from './versions.ts';
import { aliasRecord } from './views.ts';

const ATTEMPTS = 10;

/** Other moves kept landing through every attempt: the alias is in use by concurrent writers (409, not 429). */
const busyAlias = (asset: string, alias: string) =>
  contended('AliasInUse', `alias ${alias} of ${asset} kept moving while this request tried to change it; try again`, { asset, alias });

/** Retry only when the alias moved (or another transaction got in first); anything else is a fault. */
function retryOrThrow(reasons: CancelReason[]): void {
  if (reasons.some((r) => conditionFailed(r) || r.Code === 'TransactionConflict')) return;
  throw new Error(`alias transaction cancelled for reasons ${reasons.map((r) => r.Code).join(', ')}`);
}

export async function listAliasRecords(asset: string, limit: number, cursor?: string): Promise<{ items: AliasRecord[]; nextCursor?: string }> {
  if (!(await getAsset(asset))) throw notFound(`asset ${asset} does not exist`, { name: asset });
  const page = await listAliases(asset, limit, cursor);
  return { items: page.items.map(aliasRecord), nextCursor: page.nextCursor };
}

/** The last reason is the protection check when the caller is below publisher (aliasesRepo `guard`). */
function refuseIfProtected(reasons: CancelReason[], guarded: boolean, asset: string, alias: string): void {
  if (guarded && conditionFailed(reasons.at(-1))) {
    throw new ArcaError('Forbidden', `alias ${alias} of ${asset} is protected (the asset's protectedAliases): only a publisher or admin moves or deletes it`, {
      role: 'publisher',
      name: asset,
      alias,
    });
  }
}

export async function setAlias(asset: string, rawAlias: string, rawVersion: string, actor: Actor): Promise<AliasRecord> {
  const alias = parseAliasName(rawAlias);
  const version = parseVersion(rawVersion);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const previous = await getAlias(asset, alias);
    if (previous?.version === version) return aliasRecord(previous);
    const item = { asset, alias, version, updatedAt: nowIso(), updatedBy: actor.principal };
    const audit = auditPut({
      action: 'alias.move',
      actor: actor.principal,
      requestId: actor.requestId,
      asset,
      alias,
      from: previous?.version,
      to: version,
      at: item.updatedAt,
    });
    const guarded = !actor.isPublisher;
    const reasons = await moveAlias(item, previous?.version, guarded, audit);
    if (!reasons) return aliasRecord(item);
    refuseIfProtected(reasons, guarded, asset, alias);
    const target = reasons[1];
    if (conditionFailed(target)) {
      const status = target?.Item ? VersionItem.shape.status.parse(target.Item.status) : undefined;
      if (status === 'pending') {
        throw conflict('VersionNotReady', `${asset}:${version} is not ready: an alias points only to a ready or published version`, {
          version,
        });
      }
      throw notFound(`${asset} has no version ${version}`, { asset, version });
    }
    retryOrThrow(reasons);
    await contentionBackoff(attempt - 1);
  }
  throw busyAlias(asset, alias);
}

export async function deleteAlias(asset: string, rawAlias: string, actor: Actor): Promise<void> {
  const alias = parseAliasName(rawAlias);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const current = await getAlias(asset, alias);
    if (!current) throw notFound(`${asset} has no alias ${alias}`, { asset, alias });
    const audit = auditPut({ action: 'alias.delete', actor: actor.principal, requestId: actor.requestId, asset, alias, from: current.version });
    const reasons = await deleteAliasTx(asset, alias, current.version, !actor.isPublisher, actor.principal, audit);
    if (!reasons) return;
    refuseIfProtected(reasons, !actor.isPublisher, asset, alias);
    retryOrThrow(reasons);
    await contentionBackoff(attempt - 1);
  }
  throw busyAlias(asset, alias);
}
