/** Changing one version: metadata edits, new formats, resumed uploads, commit, publish (R-LOCK), delete. Reads: versionReads.ts. */
import { parseBlobKey } from '../../contract/keys.ts';
import type { AddFilesRequest, FileRecord, MultipartInstructions, UpdateVersionRequest, VersionRecord } from '../../contract/schemas.ts';
import { auditPut } from '../adapters/auditRepo.ts';
import { updateHolders, verifiedBlobs } from '../adapters/blobsRepo.ts';
import { conditionFailed } from '../adapters/dynamo.ts';
import { abortMultipartUpload, setLegalHold } from '../adapters/s3.ts';
import { indexAttributes } from '../adapters/versionIndexes.ts';
import { getVersion, tombstone, updateVersion } from '../adapters/versionsRepo.ts';
import { env } from '../shared/env.ts';
import { ArcaError, conflict, notFound, validationError } from '../shared/errors.ts';
import { count } from '../shared/metrics.ts';
import { CONTENTION_ATTEMPTS as ATTEMPTS, contended, contentionBackoff } from './contention.ts';
import { assertItemFits, planFiles } from './files.ts';
import { finalizeVersion } from './finalize.ts';
import { effectiveStatus, nowIso, objectKeyOf, type Actor, type VersionItem } from './model.ts';
import { instructions, partUrls, startUploads, waitingTag, withVerified } from './uploads.ts';
import { liveVersion } from './versionReads.ts';
import { parseVersion } from './versions.ts';
import { committedFiles, etagOf, ifMatchHolds, versionRecord } from './views.ts';


/**
 * Other writers kept changing the version through every attempt. Of the spec's 409 codes, VersionNotReady is
 * the one that says "this version cannot take that change right now".
 */
const busyVersion = (asset: string, version: string, what: string) =>
  contended('VersionNotReady', `${asset}:${version} kept changing while this request tried to ${what}; try again`, { asset, version });

const publishedError = (v: VersionItem) =>
  conflict('VersionPublished', `${v.asset}:${v.version} is published: its files and metadata never change`, {
    asset: v.asset,
    version: v.version,
  });

export async function updateVersionMetadata(
  asset: string,
  version: string,
  patch: UpdateVersionRequest,
  ifMatch: string | undefined,
  actor: Actor,
): Promise<VersionRecord> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const item = await liveVersion(asset, version, true);
    if (item.status === 'published') throw publishedError(item);
    if (!ifMatchHolds(ifMatch, item.rev)) {
      throw new ArcaError('PreconditionFailed', `If-Match ${ifMatch} does not match the current ETag ${etagOf(item.rev)}`, { etag: etagOf(item.rev) });
    }
    const fields = { ...patch, updatedAt: nowIso(), updatedBy: actor.principal };
    assertItemFits({ ...item, ...fields });
    const audit = auditPut({ action: 'version.edit', actor: actor.principal, requestId: actor.requestId, asset, version: item.version, at: fields.updatedAt });
    const { updated } = await updateVersion(item, fields, { rev: item.rev, statusIn: ['pending', 'ready'] }, audit);
    if (updated) return versionRecord(updated);
    await contentionBackoff(attempt);
  }
  throw busyVersion(asset, version, 'edit it');
}

/** Adds files (a new format) to an unpublished version; they are served once committed. */
export async function addFiles(asset: string, version: string, req: AddFilesRequest, actor: Actor): Promise<VersionRecord> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const item = await liveVersion(asset, version, true);
    if (item.status === 'published') throw publishedError(item);
    const planned = planFiles(req.files, item.files, { maxFormats: env.maxFormatsPerVersion, multipartThreshold: env.multipartThreshold });
    const verified = await verifiedBlobs(planned.map((f) => f.sha256));
    const waiting = waitingTag(item.asset, item.version);
    const uploads = await startUploads(withVerified(planned, verified), waiting);
    const added = uploads.files;
    const pendingFiles = item.pendingFiles + added.filter((f) => !f.verified).length;
    const fields = { files: [...item.files, ...added], pendingFiles, updatedAt: nowIso(), updatedBy: actor.principal };
    try {
      assertItemFits({ ...item, ...fields });
    } catch (err) {
      await uploads.abort();
      throw err;
    }
    const { updated } = await updateVersion(item, fields, { filesRev: item.filesRev ?? 0, statusIn: ['pending', 'ready'] });
    if (updated) {
      const fresh: FileRecord[] = await instructions(added, waiting);
      const byPath = new Map(fresh.map((f) => [f.path, f]));
      return versionRecord(updated, versionRecord(updated).files.map((f) => byPath.get(f.path) ?? f));
    }
    await uploads.abort();
    await contentionBackoff(attempt);
  }
  throw busyVersion(asset, version, 'add the files');
}

/**
 * Withdraws the files of a ready version whose bytes never arrived (a new format given up on), all of them or
 * those of one format, so the version can be published. Their uploads are aborted; bytes already stored are
 * the garbage collector's. A pending version's files are what it is made of: it expires or is deleted instead.
 * Withdrawing nothing is a no-op, so a repeated request answers the same.
 */
export async function withdrawFiles(asset: string, version: string, format: string | undefined, actor: Actor): Promise<VersionRecord> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const item = await liveVersion(asset, version, true);
    if (item.status === 'published') throw publishedError(item);
    if (item.status === 'pending') {
      throw conflict('VersionNotReady', `${asset}:${item.version} is pending: its files are the version; upload them, or delete the version`, {
        asset,
        version: item.version,
        status: item.status,
      });
    }
    const withdrawn = item.files.filter((f) => !f.verified && (format === undefined || f.format === format));
    if (withdrawn.length === 0) return versionRecord(item);
    const files = item.files.filter((f) => !withdrawn.includes(f));
    const fields = { files, pendingFiles: files.filter((f) => !f.verified).length, updatedAt: nowIso(), updatedBy: actor.principal };
    const audit = auditPut({ action: 'version.edit', actor: actor.principal, requestId: actor.requestId, asset, version: item.version, at: fields.updatedAt });
    const { updated } = await updateVersion(item, fields, { filesRev: item.filesRev ?? 0, statusIn: ['ready'] }, audit);
    if (updated) {
      await Promise.all(withdrawn.filter((f) => f.uploadId).map((f) => abortMultipartUpload(objectKeyOf(f), f.uploadId as string)));
      return versionRecord(updated);
    }
    await contentionBackoff(attempt);
  }
  throw busyVersion(asset, version, 'withdraw the files');
}

/** Fresh part URLs of a multipart upload from part `from` (resume). */
export async function reissueParts(asset: string, version: string, uploadId: string, from = 1): Promise<MultipartInstructions> {
  const item = await liveVersion(asset, version, true);
  const file = item.files.find((f) => f.uploadId === uploadId && !f.verified);
  if (!file) throw notFound(`${asset}:${item.version} has no upload ${uploadId} in progress`, { uploadId });
  return partUrls(file, from);
}

/** `complete: false`: the version stays pending while large files are verified (the ObjectCreated job). */
export async function commit(asset: string, version: string, actor: Actor): Promise<{ record: VersionRecord; complete: boolean }> {
  const { item, verifying } = await finalizeVersion(asset, parseVersion(version), actor.principal);
  return { record: versionRecord(item, committedFiles(item.files, verifying)), complete: verifying.length === 0 };
}

/** The objects a version's entries name (a digest uploaded twice may sit in two objects). */
const distinctBlobs = (v: VersionItem): string[] => [...new Set(v.files.map(objectKeyOf))];
/** An object's record id in the Blobs table (holders are counted per object: the hold is on the object). */
const recordId = (key: string): string => parseBlobKey(key)?.id ?? key;
const holderOf = (v: VersionItem): string => waitingTag(v.asset, v.version);

/**
 * objectLock: a published version's blobs carry an S3 legal hold. Idempotent, so publishing again repairs a
 * publish that stopped between the status change and the holds.
 */
async function holdBlobs(v: VersionItem): Promise<void> {
  if (!env.objectLock) return;
  for (const key of distinctBlobs(v)) {
    await setLegalHold(key, true);
    await updateHolders(recordId(key), holderOf(v), true);
  }
}

/** Lifts the hold of each blob no other published version holds (re-placed if one published meanwhile). */
async function releaseBlobs(v: VersionItem): Promise<void> {
  if (!env.objectLock) return;
  for (const key of distinctBlobs(v)) {
    if ((await updateHolders(recordId(key), holderOf(v), false)) > 0) continue;
    await setLegalHold(key, false);
    if ((await updateHolders(recordId(key), holderOf(v), false)) > 0) await setLegalHold(key, true);
  }
}

export async function publish(asset: string, version: string, actor: Actor): Promise<VersionRecord> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const item = await liveVersion(asset, version, true);
    if (item.status === 'published') {
      await holdBlobs(item);
      return versionRecord(item);
    }
    if (item.status === 'ready' && item.pendingFiles > 0) {
      const waiting = item.files.filter((f) => !f.verified);
      throw conflict(
        'VersionNotReady',
        `${asset}:${item.version} waits for the bytes of ${waiting.map((f) => f.path).join(', ')}: upload and commit them, or withdraw them (DELETE …/files?format=)`,
        { asset, version: item.version, status: item.status, waiting: waiting.map((f) => ({ path: f.path, format: f.format })) },
      );
    }
    if (item.status === 'pending') {
      throw conflict('VersionNotReady', `${asset}:${item.version} is not ready: commit its uploads first`, {
        asset,
        version: item.version,
        status: effectiveStatus(item),
      });
    }
    const now = nowIso();
    // Not conditioned on rev: a metadata edit landing meanwhile does not make the version less publishable, only
    // a change of status or new files still to upload does, and those are the conditions.
    const audit = auditPut({ action: 'version.publish', actor: actor.principal, requestId: actor.requestId, asset, version: item.version, at: now });
    const fields = {
      status: 'published',
      ...indexAttributes(asset, item.version, 'published'),
      publishedAt: now,
      publishedBy: actor.principal,
      updatedAt: now,
      updatedBy: actor.principal,
    };
    const { updated } = await updateVersion(item, fields, { statusIn: ['ready'], noPendingFiles: true }, audit);
    if (updated) {
      count('VersionsPublished');
      // `updated` is read back (no rev condition): edits and verified formats that landed after our read are in
      // it, so every blob gets the hold and the answer is what is stored.
      await holdBlobs(updated);
      return versionRecord(updated);
    }
    await contentionBackoff(attempt);
  }
  throw busyVersion(asset, version, 'publish it');
}

export interface DeleteOptions {
  force: boolean;
  reason?: string;
}

export async function deleteVersion(asset: string, version: string, opts: DeleteOptions, actor: Actor): Promise<VersionRecord> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const item = await liveVersion(asset, version, true);
    const aliases = [...(item.aliases ?? [])].sort();
    if (aliases.length > 0) {
      throw conflict('AliasInUse', `${asset}:${item.version} is what ${aliases.join(', ')} point to: move or delete those aliases first`, {
        aliases,
      });
    }
    const reason = opts.reason?.trim();
    if (item.status === 'published') {
      if (!actor.isAdmin) throw new ArcaError('Forbidden', 'only an admin can delete a published version');
      if (!opts.force) throw conflict('VersionPublished', `${asset}:${item.version} is published: an admin deletes it with force=true and a reason`);
      if (!reason) throw validationError('deleting a published version needs a non-empty reason');
    }
    const now = nowIso();
    const reasons = await tombstone(item, actor, reason || undefined, now);
    if (!reasons) {
      // Edits and new formats may have landed between the read and the tombstone, which takes no more: read it
      // back for the uploads to abort and the record to answer.
      const gone = (await getVersion(asset, item.version, true)) ?? { ...item, status: 'deleted' as const, deletedAt: now };
      await Promise.all(gone.files.filter((f) => f.uploadId && !f.verified).map((f) => abortMultipartUpload(objectKeyOf(f), f.uploadId as string)));
      if (item.status === 'published') await releaseBlobs(gone);
      return versionRecord(gone);
    }
    if (conditionFailed(reasons[1])) throw notFound(`asset ${asset} does not exist`, { name: asset });
    await contentionBackoff(attempt);
  }
  throw busyVersion(asset, version, 'delete it');
}
