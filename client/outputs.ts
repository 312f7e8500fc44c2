/**
 * `putOutput` (R-OUT): a run output's files hashed, declared, uploaded and committed with push's own
 * transfer code (outputs answer a declaration with the same upload instructions as versions).
 */
import type { OutputRecord } from '../contract/schemas.ts';
import type { ArcaClient } from './client.ts';
import { allPartUrls, collectFiles, commitUntilReady, declareFiles, planUploads, uploadTasks, type PushProgress } from './push.ts';

export interface PutOutputOptions {
  /** Days until the output expires (1–90). Default: the service's, 7. */
  ttlDays?: number;
  metadata?: Record<string, unknown>;
  format?: string;
  attempts?: number;
  signal?: AbortSignal;
  onProgress?: (p: PushProgress) => void;
}

export interface PutOutputResult {
  output: OutputRecord;
  /** Bytes sent, and bytes the store already held. */
  uploaded: number;
  skipped: number;
}

export async function putOutput(client: ArcaClient, ref: { flow: string; run: string; name: string }, inputs: string[], opts: PutOutputOptions = {}): Promise<PutOutputResult> {
  const { flow, run, name } = ref;
  const signal = opts.signal;
  const files = await collectFiles(inputs);
  const declared = await declareFiles(client, files, opts);
  const created = await client.declareOutput(flow, run, name, {
    files: declared,
    ...(opts.ttlDays !== undefined ? { ttlDays: opts.ttlDays } : {}),
    ...(opts.metadata ? { metadata: opts.metadata } : {}),
  });
  const uploadIds = new Map<string, string>();
  const { tasks, skipped } = await planUploads(created.files, files, 'put', async (rec, { uploadId }) => {
    uploadIds.set(rec.sha256, uploadId);
    return { urls: await allPartUrls(rec, false, (from) => client.outputParts(flow, run, name, uploadId, from)) };
  });
  const before = client.transfers.stats.bytesUploaded;
  await uploadTasks(client, tasks, (task, from) => client.outputParts(flow, run, name, uploadIds.get(task.sha256)!, from), opts);
  opts.onProgress?.({ phase: 'commit', done: 0, total: 0 });
  const output = await commitUntilReady(
    `output ${flow}/${run}/${name}`,
    () => client.commitOutput(flow, run, name),
    () => client.getOutput(flow, run, name),
    signal,
  );
  return { output, uploaded: client.transfers.stats.bytesUploaded - before, skipped };
}
