/**
 * `putOutput` (R-OUT): a run output's files hashed, declared, uploaded and committed with push's own
 * transfer code (outputs answer a declaration with the same upload instructions as versions).
 */
import type { OutputRecord } from '../contract/schemas.ts';
import type { ArcaClient } from './client.ts';
import { clientError } from './errors.ts';
import { allPartUrls, collectFiles, commitUntilReady, declareFiles, uploadTasks, type PushProgress, type Task } from './push.ts';

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
  const tasks: Task[] = [];
  const uploadIds = new Map<string, string>();
  let skipped = 0;
  for (const rec of created.files) {
    const file = files.find((f) => f.path === rec.path);
    if (!file) throw clientError(`the service declared a file that was not put: ${rec.path}`);
    if (rec.state === 'present') skipped += rec.size;
    else if (rec.upload) tasks.push({ file, sha256: rec.sha256, start: 0, end: rec.size, url: rec.upload.url, headers: rec.upload.headers });
    else if (rec.multipart) {
      const { uploadId, partSize } = rec.multipart;
      uploadIds.set(rec.sha256, uploadId);
      for (const p of await allPartUrls(rec, false, (from) => client.outputParts(flow, run, name, uploadId, from))) {
        const start = (p.partNumber - 1) * partSize;
        tasks.push({ file, sha256: rec.sha256, start, end: Math.min(rec.size, start + partSize), partNumber: p.partNumber, url: p.url, headers: p.headers });
      }
    } else throw clientError(`the service gave no upload instructions for ${rec.path}`);
  }
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
