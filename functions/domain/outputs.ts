/**
 * Run outputs (R-OUT): declared like a version's files (same planning, upload instructions and blob store),
 * verified by the same code as a version's commit. Reads (presigned GETs): outputReads.ts; promotion into an
 * asset version: outputPromotion.ts.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { MultipartInstructions, OutputRecord, PutOutputRequest } from '../../contract/schemas.ts';
import { verifiedBlobs } from '../adapters/blobsRepo.ts';
import { markOutputReady, putOutput, runKeyOf } from '../adapters/outputsRepo.ts';
import { env } from '../shared/env.ts';
import { conflict, notFound, validationError } from '../shared/errors.ts';
import { CONTENTION_ATTEMPTS, contended, contentionBackoff } from './contention.ts';
import { planFiles } from './files.ts';
import { verifiedEntry, verifyFiles } from './finalize.ts';
import { nowEpoch, nowIso, objectKeyOf, type Actor, type OutputItem, type StoredFile } from './model.ts';
import { label, liveOutput, type OutputRef } from './outputReads.ts';
import { LATEST_RUN, parseSegment } from './names.ts';
import { instructions, outputWaitingTag, partUrls, startUploads, withVerified } from './uploads.ts';
import { committedFiles, outputRecord } from './views.ts';

const DAY = 24 * 3600;

const tagOf = (o: OutputRef) => outputWaitingTag(o.flow, o.run, o.name);

/** A stored run's name: one segment, and never `latest` (which reads as the newest run). */
export function storedRef(flow: string, run: string, name: string): OutputRef {
  if (parseSegment('run', run) === LATEST_RUN) {
    throw validationError(`"${LATEST_RUN}" names the flow's most recent run and cannot be a run's name`, { run });
  }
  return { flow: parseSegment('flow', flow), run, name: parseSegment('output', name) };
}

/** `created: false`: the same request was made before; its record is answered again. */
export async function declareOutput(
  flow: string,
  run: string,
  name: string,
  req: PutOutputRequest,
  actor: Actor,
): Promise<{ record: OutputRecord; created: boolean }> {
  const ref = storedRef(flow, run, name);
  const planned = planFiles(req.files, [], { maxFormats: env.maxFormatsPerVersion, multipartThreshold: env.multipartThreshold });
  const requestHash = createHash('sha256').update(canonicalize(req) ?? '').digest('hex');
  const verified = await verifiedBlobs(planned.map((f) => f.sha256));
  const uploads = await startUploads(withVerified(planned, verified), tagOf(ref));
  const now = nowEpoch();
  const createdAt = nowIso();
  const item: OutputItem = {
    runKey: runKeyOf(ref.flow, ref.run),
    ...ref,
    createdKey: `${createdAt}#${ref.run}#${ref.name}`,
    status: uploads.files.every((f) => f.verified) ? 'ready' : 'pending',
    files: uploads.files,
    ttlDays: req.ttlDays,
    metadata: req.metadata,
    requestHash,
    createdAt,
    createdBy: actor.principal,
    expiresAt: now + req.ttlDays * DAY,
  };
  const stored = await putOutput(item, now);
  if (stored.created) return { record: outputRecord(item, await instructions(item.files, tagOf(ref))), created: true };
  await uploads.abort();
  if (stored.existing.requestHash !== requestHash) {
    throw conflict('AlreadyExists', `${label(ref)} is already written; an output is written once per run`, { ...ref });
  }
  return { record: outputRecord(stored.existing, await instructions(stored.existing.files, tagOf(ref))), created: false };
}

/** Fresh part URLs of one of the output's multipart uploads, from part `from` (resume). */
export async function reissueOutputParts(flow: string, run: string, name: string, uploadId: string, from = 1): Promise<MultipartInstructions> {
  const ref = storedRef(flow, run, name);
  const file = (await liveOutput(ref, true)).files.find((f) => f.uploadId === uploadId && !f.verified);
  if (!file) throw notFound(`${label(ref)} has no upload ${uploadId} in progress`, { uploadId });
  return partUrls(file, from);
}

/**
 * Verifies the output's bytes with the version commit's code. `arrived`: the object the ObjectCreated job was
 * raised for, hashed whatever its size. `complete: false` while the job still hashes large files.
 */
export async function commitOutput(flow: string, run: string, name: string, arrived?: string): Promise<{ record: OutputRecord; complete: boolean }> {
  const ref = storedRef(flow, run, name);
  for (let attempt = 0; attempt < CONTENTION_ATTEMPTS; attempt++) {
    const item = await liveOutput(ref, true);
    if (item.status === 'ready') return { record: outputRecord(item), complete: true };
    const { verifying, keys } = await verifyFiles(item.files, (f: StoredFile) => (objectKeyOf(f) === arrived ? Infinity : env.inlineVerifyMaxBytes));
    if (verifying.length > 0) return { record: outputRecord(item, committedFiles(item.files, verifying)), complete: false };
    const ready = await markOutputReady(item, item.files.map(verifiedEntry(keys)));
    if (ready) return { record: outputRecord(ready), complete: true };
    await contentionBackoff(attempt);
  }
  throw contended('VersionNotReady', `${label(ref)} kept changing while it was being committed; commit again`, { ...ref });
}
