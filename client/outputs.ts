/**
 * `putOutput` (R-OUT): a run output's files hashed, declared, uploaded and committed with push's own
 * transfer code (outputs answer a declaration with the same upload instructions as versions). A killed
 * multipart upload resumes: the same declaration again answers the stored output with its uploadIds, and the
 * parts its resume state records done are skipped (the Python SDK does the same).
 */
import { createHash } from 'node:crypto';
import type { OutputRecord } from '../contract/schemas.ts';
import type { ArcaClient } from './client.ts';
import { collectFiles, commitUntilReady, declareFiles, hasResumeState, planUploads, trackedMultipart, uploadTasks, type PushProgress, type UploadTarget } from './push.ts';
import { ResumeStore } from './resume.ts';

export interface PutOutputOptions {
  /** Days until the output expires (1–90). Default: the service's, 7. */
  ttlDays?: number;
  metadata?: Record<string, unknown>;
  format?: string;
  attempts?: number;
  /** Resume an interrupted multipart upload of the same output and files (default true). */
  resume?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: PushProgress) => void;
}

export interface PutOutputResult {
  output: OutputRecord;
  /** Bytes sent, and bytes the store already held. */
  uploaded: number;
  skipped: number;
  /** Whether an interrupted upload of the same declaration was resumed. */
  resumed: boolean;
}

export async function putOutput(client: ArcaClient, ref: { flow: string; run: string; name: string }, inputs: string[], opts: PutOutputOptions = {}): Promise<PutOutputResult> {
  const { flow, run, name } = ref;
  const signal = opts.signal;
  const files = await collectFiles(inputs);
  const declared = await declareFiles(client, files, opts);
  const request = {
    files: declared,
    ...(opts.ttlDays !== undefined ? { ttlDays: opts.ttlDays } : {}),
    ...(opts.metadata ? { metadata: opts.metadata } : {}),
  };
  const store = new ResumeStore(client.cacheDir);
  // No asset, and a version no push can have: a push never takes an output's resume state, nor the reverse.
  const target: UploadTarget = { api: client.url, asset: '', version: `output:${flow}/${run}/${name}`, idempotencyKey: '', requestHash: createHash('sha256').update(JSON.stringify(request)).digest('hex') };
  const resumed = opts.resume !== false && (await hasResumeState(store, target, declared.filter((d) => d.parts).map((d) => d.sha256)));
  const created = await client.declareOutput(flow, run, name, request);
  const tracked = trackedMultipart(store, target, resumed, (uploadId, from) => client.outputParts(flow, run, name, uploadId, from));
  const { tasks, skipped } = await planUploads(created.files, files, 'put', tracked.plan);
  const before = client.transfers.stats.bytesUploaded;
  await uploadTasks(client, tasks, tracked.reissue, { ...opts, onDone: tracked.onDone });
  opts.onProgress?.({ phase: 'commit', done: 0, total: 0 });
  const output = await commitUntilReady(
    `output ${flow}/${run}/${name}`,
    () => client.commitOutput(flow, run, name),
    () => client.getOutput(flow, run, name),
    signal,
  );
  await tracked.clear();
  return { output, uploaded: client.transfers.stats.bytesUploaded - before, skipped, resumed };
}
