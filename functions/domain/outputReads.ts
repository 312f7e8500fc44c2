/**
 * Reading run outputs (R-OUT): the read function's share of outputs.ts, kept apart so its bundle holds no
 * upload, verification or S3 client code (issue 11). Expired outputs read as gone whatever DynamoDB's TTL has done yet.
 */
import type { OutputRecord } from '../../contract/schemas.ts';
import { getOutput, latestRun, listOutputs } from '../adapters/outputsRepo.ts';
import { conflict, notFound } from '../shared/errors.ts';
import { mapInTurn } from '../shared/inTurn.ts';
import { fileUrl } from './download.ts';
import { nowEpoch, outputExpired, type OutputItem } from './model.ts';
import { LATEST_RUN, parseSegment } from './names.ts';
import { fileRecord, outputRecord } from './views.ts';

export interface OutputRef {
  flow: string;
  run: string;
  name: string;
}

export const label = (o: OutputRef) => `output ${o.name} of run ${o.run} of flow ${o.flow}`;

/** The run a read names, `latest` resolved with one Query. */
async function readRun(flow: string, run: string): Promise<string> {
  parseSegment('flow', flow);
  if (parseSegment('run', run) !== LATEST_RUN) return run;
  const latest = await latestRun(flow);
  if (latest === undefined) throw notFound(`flow ${flow} has no run with outputs`, { flow });
  return latest;
}

export async function liveOutput(ref: OutputRef, consistent = false): Promise<OutputItem> {
  const item = await getOutput(ref.flow, ref.run, ref.name, consistent);
  if (!item || outputExpired(item)) throw notFound(`${label(ref)} does not exist or has expired`, { ...ref });
  return item;
}

export const notReady = (ref: OutputRef) => conflict('VersionNotReady', `${label(ref)} is not ready: commit it once its bytes are uploaded`, { ...ref });

/** A ready output with a presigned download URL on each file. */
export async function readOutput(flow: string, run: string, name: string): Promise<OutputRecord> {
  const ref = { flow, run: await readRun(flow, run), name: parseSegment('output', name) };
  const item = await liveOutput(ref);
  if (item.status !== 'ready') throw notReady(ref);
  const files = await mapInTurn(item.files, async (f) => ({ ...fileRecord(f), url: await fileUrl(f) }));
  return outputRecord(item, files);
}

export async function listRunOutputs(
  flow: string,
  run: string,
  page: { limit: number; cursor?: string },
): Promise<{ flow: string; run: string; items: OutputRecord[]; nextCursor?: string }> {
  const resolved = await readRun(flow, run);
  const { items, nextCursor } = await listOutputs(flow, resolved, page, nowEpoch());
  return { flow, run: resolved, items: items.map((i) => outputRecord(i)), ...(nextCursor ? { nextCursor } : {}) };
}
