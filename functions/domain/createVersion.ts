/**
 * Version creation (R-UPLOAD, R-CAP, R-VER): one read (the asset item and the blobs already verified, one
 * BatchGetItem) and one TransactWriteItems. Cancellation reasons carry the asset's current item
 * (ALL_OLD), so a concurrent bump or the cap are told apart without reading again.
 */
import { versionKey } from '../../contract/keys.ts';
import type { CreateVersionRequest, OutputSource, VersionRecord } from '../../contract/schemas.ts';
import { conditionFailed, type CancelReason } from '../adapters/dynamo.ts';
import { indexAttributes } from '../adapters/versionIndexes.ts';
import { createVersionTx, loadForCreate, roomCandidates, type Victim } from '../adapters/versionsRepo.ts';
import { getAsset } from '../adapters/assetsRepo.ts';
import { auditPut } from '../adapters/auditRepo.ts';
import { env } from '../shared/env.ts';
import { ArcaError, conflict, notFound } from '../shared/errors.ts';
import { logger } from '../shared/logger.ts';
import { count } from '../shared/metrics.ts';
import { assertItemFits, planFiles } from './files.ts';
import { AssetItem, nowEpoch, nowIso, type Actor, type StoredFile, type VersionItem } from './model.ts';
import { paramsHash } from './paramsHash.ts';
import { formatSpec } from './spec.ts';
import { putEdges } from '../adapters/lineageRepo.ts';
import { resolveRecords } from './resolve.ts';
import { instructions, startUploads, waitingTag, withVerified } from './uploads.ts';
import { nextVersion, parseVersion } from './versions.ts';
import { versionRecord } from './views.ts';

/** Attempts before a create gives up under contention (concurrent bumps, transaction conflicts). */
const MAX_ATTEMPTS = 25;

interface AssetState {
  liveCount: number;
  highestKey?: string;
  highestVersion?: string;
  capPolicy: AssetItem['capPolicy'];
}

const stateOf = (a: AssetItem): AssetState => ({
  liveCount: a.liveCount,
  highestKey: a.highestKey,
  highestVersion: a.highestVersion,
  capPolicy: a.capPolicy,
});

export const capReached = (asset: string, live: number, cap: number): ArcaError =>
  conflict(
    'VersionCapReached',
    `asset ${asset} holds ${live} live versions, the most it may hold (${cap}): delete a version ` +
      `(DELETE /v1/assets/${asset}/-/versions/{version}) or set capPolicy "evict-oldest" to make room`,
    { asset, liveVersions: live, maxVersionsPerAsset: cap },
  );

/** Up to this many expired pending versions are tombstoned by one create (a transaction holds 100 actions). */
const MAX_EXPIRED_PER_CREATE = 25;

/** At the cap: expired pending versions to tombstone, else (evict-oldest) the oldest unaliased ready version. */
async function makeRoom(asset: string, state: AssetState): Promise<Victim[]> {
  const candidates = await roomCandidates(asset);
  const now = nowEpoch();
  const expired = candidates
    .filter((v) => v.status === 'pending' && v.pendingExpiresAt !== undefined && v.pendingExpiresAt <= now)
    .slice(0, MAX_EXPIRED_PER_CREATE);
  if (expired.length > 0) return expired.map((item) => ({ item, reason: 'expired' }));
  if (state.capPolicy !== 'evict-oldest') return [];
  const oldest = candidates
    .filter((v) => v.status === 'ready' && (v.aliases?.length ?? 0) === 0)
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0))[0];
  return oldest ? [{ item: oldest, reason: 'evicted' }] : [];
}

const jitter = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * 10 * Math.min(attempt, 8)));

export function createVersion(assetName: string, req: CreateVersionRequest, actor: Actor): Promise<VersionRecord> {
  const planned = planFiles(req.files, [], { maxFormats: env.maxFormatsPerVersion, multipartThreshold: env.multipartThreshold });
  return storeVersion(assetName, req, planned, actor);
}

/** A version create's fields other than its files. */
export type VersionFields = Omit<CreateVersionRequest, 'files'>;

/**
 * Creates a version of already planned files: a create's declarations, or a promoted run output's stored
 * entries (copied as the store recorded them, `source` naming the output).
 */
export async function storeVersion(
  assetName: string,
  req: VersionFields,
  planned: readonly StoredFile[],
  actor: Actor,
  source?: OutputSource,
): Promise<VersionRecord> {
  const explicit = req.version !== undefined ? parseVersion(req.version) : undefined;
  const dependencies = await resolveRecords(req.records ?? []);
  // Only a version declared with params (even `{}`) has a paramsHash: loadOrGenerate must never match one without.
  const hash = req.params === undefined ? undefined : paramsHash(req.params, dependencies);

  const loaded = await loadForCreate(assetName, planned.map((f) => f.sha256));
  if (!loaded.asset) throw notFound(`asset ${assetName} does not exist`, { name: assetName });
  let state = stateOf(loaded.asset);
  const baseFiles = withVerified(planned, loaded.verified);
  const pendingFiles = baseFiles.filter((f) => !f.verified).length;

  let uploads: Awaited<ReturnType<typeof startUploads>> | undefined;
  let uploadsFor: string | undefined;
  let victims: Victim[] = [];
  try {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const version = explicit ?? nextVersion(state.highestVersion, req.bump);
      const vkey = versionKey(version);
      if (state.liveCount >= env.maxVersionsPerAsset && victims.length === 0) {
        victims = await makeRoom(assetName, state);
        if (victims.length === 0) {
          count('CapRefusals');
          throw capReached(assetName, state.liveCount, env.maxVersionsPerAsset);
        }
      }
      // Multipart uploads name the version waiting for them, so a bump retry starts them again.
      if (!uploads || uploadsFor !== version) {
        await uploads?.abort();
        uploads = await startUploads(baseFiles, waitingTag(assetName, version));
        uploadsFor = version;
      }
      const files = uploads.files;
      const now = nowIso();
      const status = pendingFiles === 0 ? 'ready' : 'pending';
      const item: VersionItem = {
        asset: assetName,
        vkey,
        version,
        status,
        files,
        description: req.description,
        tags: req.tags ?? [],
        hyperparameters: req.hyperparameters,
        config: req.config,
        metrics: req.metrics,
        records: dependencies.map((d) => d.spec),
        params: req.params,
        paramsHash: hash,
        source,
        ...indexAttributes(assetName, version, status),
        pendingExpiresAt: status === 'pending' ? nowEpoch() + env.pendingTtlSeconds : undefined,
        pendingFiles,
        createdAt: now,
        createdBy: actor.principal,
        updatedAt: now,
        rev: 1,
      };
      assertItemFits(item);
      const raiseHighest = state.highestKey === undefined || vkey > state.highestKey;
      const audit = auditPut({ action: 'version.create', actor: actor.principal, requestId: actor.requestId, asset: assetName, version, at: now });
      const reasons = await createVersionTx({ item, cap: env.maxVersionsPerAsset, victims, raiseHighest, audit });
      if (!reasons) {
        count('VersionsCreated');
        // After the transaction: up to 100 edges do not fit it beside the version and the asset. Puts are
        // idempotent; a create that stops between the two leaves the version without its downstream edges.
        if (item.records.length > 0) await putEdges(formatSpec(assetName, version), item.records);
        const record = versionRecord(item, await instructions(item.files, waitingTag(assetName, version)));
        uploads = undefined;
        return record;
      }
      const next = await nextState(assetName, reasons, explicit !== undefined, version);
      if (next.refresh) state = next.refresh;
      // Victims are re-chosen whenever the asset or a victim changed under us.
      victims = [];
      if (attempt > 1) await jitter(attempt);
    }
    throw new ArcaError('Throttled', `too many concurrent changes to asset ${assetName}; retry`);
  } finally {
    await uploads?.abort();
  }
}

/** Reads the cancellation reasons [asset, version, ...victims]: a final error, or the asset state to retry with. */
async function nextState(asset: string, reasons: CancelReason[], explicit: boolean, version: string): Promise<{ refresh?: AssetState }> {
  const [assetReason, versionReason] = reasons;
  // A bump that lost to a concurrent bump of the same number sees both conditions fail: retry above it.
  const bumpLost = !explicit && conditionFailed(assetReason) && assetReason?.Item !== undefined;
  if (conditionFailed(versionReason) && !bumpLost) {
    throw conflict('AlreadyExists', `${asset} already has (or had) version ${version}; a version string is never reused`, {
      asset,
      version,
    });
  }
  if (conditionFailed(assetReason)) {
    if (!assetReason?.Item) throw notFound(`asset ${asset} does not exist`, { name: asset });
    const current = AssetItem.parse(assetReason.Item);
    logger.debug('create version: asset changed, retrying', { asset, liveCount: current.liveCount, highest: current.highestVersion, explicit });
    return { refresh: stateOf(current) };
  }
  if (reasons.some((r) => r.Code === 'TransactionConflict')) {
    const current = await getAsset(asset, true);
    if (!current) throw notFound(`asset ${asset} does not exist`, { name: asset });
    return { refresh: stateOf(current) };
  }
  // A victim changed (aliased, published, committed) since it was chosen: choose again.
  if (reasons.slice(2).some(conditionFailed)) return {};
  throw new Error(`create version: transaction cancelled for reasons ${reasons.map((r) => r.Code).join(', ')}`);
}

