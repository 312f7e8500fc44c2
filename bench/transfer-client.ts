/**
 * One measured transfer of bench/transfer.ts, run in its own process so that /usr/bin/time sees only the
 * client: CPU seconds and peak RSS belong to the tool under test.
 *
 *   arca-push     URL TOKEN FILE CACHE_DIR         ArcaClient.push (hash + parts in parallel + commit)
 *   arca-pull     URL TOKEN SPEC OUT_DIR CACHE_DIR ArcaClient.pull into an empty cache (ranged GETs + verify)
 *   sdk-upload    ENDPOINT BUCKET KEY FILE         @aws-sdk/lib-storage Upload, defaults
 *   sdk-download  ENDPOINT BUCKET KEY OUT_FILE     @aws-sdk/client-s3 GetObject streamed to a file
 */
import { createReadStream, createWriteStream } from 'node:fs';
import module from 'node:module';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';

// As the `arca` CLI does (client/cli/arca.js): type-stripped sources and V8 code are cached after the first run.
module.enableCompileCache();
// Each mode imports only its own tool, so that no tool's memory or start-up is counted against another.
const [mode, ...args] = process.argv.slice(2);
const s3 = async (endpoint: string) => {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true });
};
const arca = async (url: string, token: string, cacheDir: string) => new (await import('../client/client.ts')).ArcaClient({ url, token, cacheDir });
/** Seconds from process start at which each phase began, reported to the orchestrator on stdout. */
const phases: Record<string, number> = {};
const mark = (phase: string) => (phases[phase] ??= Math.round(performance.now()) / 1000);
/** The version a push made, for the pulls of the same round. */
let version: string | undefined;

switch (mode) {
  case 'arca-push': {
    const [url, token, file, cacheDir] = args as [string, string, string, string];
    const client = await arca(url, token, cacheDir);
    const r = await client.push('bench/file', [file], { resume: false, onProgress: (p) => mark(p.phase) });
    mark('done');
    if (r.version.status !== 'ready') throw new Error(`push ended ${r.version.status}`);
    version = r.version.version;
    client.close();
    break;
  }
  case 'arca-pull': {
    const [url, token, spec, outDir, cacheDir] = args as [string, string, string, string, string];
    const client = await arca(url, token, cacheDir);
    mark('download');
    await client.pull(spec, { outDir });
    mark('done');
    client.close();
    break;
  }
  case 'sdk-upload': {
    const [endpoint, bucket, key, file] = args as [string, string, string, string];
    const { Upload } = await import('@aws-sdk/lib-storage');
    await new Upload({ client: await s3(endpoint), params: { Bucket: bucket, Key: key, Body: createReadStream(file) } }).done();
    break;
  }
  case 'sdk-download': {
    const [endpoint, bucket, key, out] = args as [string, string, string, string];
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const res = await (await s3(endpoint)).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await pipeline(res.Body as Readable, createWriteStream(out));
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
process.stdout.write(`${JSON.stringify({ phases, version })}\n`);
