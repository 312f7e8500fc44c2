/**
 * Presigned URLs (R-UPLOAD): µs per URL from the service's one reused signer (functions/adapters/presign.ts, no
 * S3 client) beside the SDK's `getSignedUrl` on an S3 client in the same run, for GET, PUT with its signed
 * headers and multipart part URLs; the CPU a resolve of a 1,000-file version spends signing (`fileUrl` ×
 * 1,000 in turn, the path `resolve` takes, beside the same all at once, as it was); and the floor of the SDK's signing: one bare `SignatureV4` with static
 * credentials on the same GET. min / median / max over `RUNS` runs.
 *
 *   npx tsx bench/presign.ts [runs=7]
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { median } from './stats.ts';

// Static credentials, as a Lambda's environment provides them; set before the service's modules load. And no
// Powertools tracer, as in the bundles of the default `tracing: 'active'`: the X-Ray SDK it loads installs async
// hooks (cls-hooked) that tax every promise, a third of the signing CPU here.
Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDBENCH', AWS_SECRET_ACCESS_KEY: 'bench-secret', AWS_SESSION_TOKEN: 'bench-token', AWS_REGION: 'us-east-1', ARCA_SDK_TRACER: 'false' });
await import('../test/fixtures/unit-env.ts');
const [{ GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand }, { getSignedUrl }, { CLIENT_BASE }, { getObject, presignPart, presignPut, signer }, { fileUrl }, { mapInTurn }, { hexToBase64 }, { SignatureV4 }, { createHash, createHmac }, { formatUrl }] = await Promise.all([
  import('@aws-sdk/client-s3'),
  import('@aws-sdk/s3-request-presigner'),
  import('../functions/adapters/s3.ts'),
  import('../functions/adapters/presign.ts'),
  import('../functions/domain/download.ts'),
  import('../functions/shared/inTurn.ts'),
  import('../functions/adapters/objectHeaders.ts'),
  import('@smithy/signature-v4'),
  import('node:crypto'),
  import('@aws-sdk/core/util'),
]);

const RUNS = Math.max(5, Number(process.argv[2] ?? 7));
const URLS = 1000;
const keys = Array.from({ length: URLS }, (_, i) => `blobs/sha256/${i.toString(16).padStart(64, '0')}`);
/** A 1,000-file version's files, as resolve signs them. */
const files = keys.map((key, i) => ({ key, sha256: key.slice(-64), path: `shard-${i}/model.bin`, contentType: 'application/octet-stream' }));
const disposition = 'attachment; filename="model.bin"';

const perUrl = async (sign: (key: string) => Promise<string>): Promise<number> => {
  const t0 = performance.now();
  for (const key of keys) await sign(key);
  return ((performance.now() - t0) * 1000) / URLS;
};
const cpuMs = async (fn: () => Promise<unknown>): Promise<number> => {
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};

// The S3 client the service's signer stands in for (the same region and credentials, from the environment).
const client = new S3Client(CLIENT_BASE);
const sdk = (key: string) => getSignedUrl(client, new GetObjectCommand({ Bucket: 'arca-test', Key: key, ResponseContentDisposition: disposition }), { expiresIn: 3600 });
const ours = (key: string) => signer.sign('arca-test', key, getObject({ contentDisposition: disposition }), { expiresIn: 3600 });
const bytes = (d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
/** The SDK's checksum interface over node:crypto (what `@smithy/hash-node` provides to the clients). */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

// The floor of signing through the SDK: one bare SignatureV4 with static credentials, the same request.
const bare = new SignatureV4({
  credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret', sessionToken: 'bench-token' },
  region: 'us-east-1',
  service: 's3',
  sha256: NodeSha256,
  uriEscapePath: false,
});
const host = 'arca-test.s3.us-east-1.amazonaws.com';
const floor = async (key: string) =>
  formatUrl(
    await bare.presign(
      { method: 'GET', protocol: 'https:', hostname: host, path: `/${key}`, query: { 'x-id': 'GetObject', 'response-content-disposition': disposition }, headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
      { expiresIn: 3600 },
    ),
  );
const sha = 'ab'.repeat(32);
const putHeaders = new Set(['content-length', 'if-none-match', 'x-amz-checksum-sha256', 'x-amz-meta-arca-version']);
const sdkPut = (key: string) =>
  getSignedUrl(
    client,
    new PutObjectCommand({ Bucket: 'arca-test', Key: key, ContentLength: 1024, ChecksumSHA256: hexToBase64(sha), IfNoneMatch: '*', Metadata: { 'arca-version': 'team/m@1.0.0' } }),
    { expiresIn: 3600, signableHeaders: putHeaders, unhoistableHeaders: putHeaders },
  );
const oursPut = (key: string) => presignPut(key, sha, 1024, 'team/m@1.0.0').then((r) => r.url);
const partHeaders = new Set(['content-length', 'x-amz-checksum-sha256']);
const sdkPart = (key: string) =>
  getSignedUrl(
    client,
    new UploadPartCommand({ Bucket: 'arca-test', Key: key, UploadId: 'upload-1', PartNumber: 7, ContentLength: 8 * 1024 ** 2, ChecksumSHA256: hexToBase64(sha) }),
    { expiresIn: 3600, signableHeaders: partHeaders, unhoistableHeaders: partHeaders },
  );
const oursPart = (key: string) => presignPart(key, 'upload-1', 7, 8 * 1024 ** 2, sha).then((r) => r.url);
await perUrl(sdkPut);
await perUrl(oursPut);
await perUrl(sdkPart);
await perUrl(oursPart);
await perUrl(sdk); // warm every path (JIT, credential resolution, the signer's first URL)
await perUrl(ours);
await perUrl(floor);

const rows: Record<string, number[]> = {
  'getSignedUrl, µs per URL': [],
  'reused signer, µs per URL': [],
  'bare SignatureV4 (static credentials), µs per URL': [],
  'PUT with signed headers, getSignedUrl, µs per URL': [],
  'PUT with signed headers, reused signer, µs per URL': [],
  'part URL, getSignedUrl, µs per URL': [],
  'part URL, reused signer, µs per URL': [],
  'resolve of 1,000 files, signing CPU ms': [],
  'the same 1,000 signed all at once (before), CPU ms': [],
};
for (let run = 0; run < RUNS; run++) {
  rows['getSignedUrl, µs per URL']?.push(await perUrl(sdk));
  rows['reused signer, µs per URL']?.push(await perUrl(ours));
  rows['bare SignatureV4 (static credentials), µs per URL']?.push(await perUrl(floor));
  rows['PUT with signed headers, getSignedUrl, µs per URL']?.push(await perUrl(sdkPut));
  rows['PUT with signed headers, reused signer, µs per URL']?.push(await perUrl(oursPut));
  rows['part URL, getSignedUrl, µs per URL']?.push(await perUrl(sdkPart));
  rows['part URL, reused signer, µs per URL']?.push(await perUrl(oursPart));
  rows['resolve of 1,000 files, signing CPU ms']?.push(await cpuMs(() => mapInTurn(files, fileUrl)));
  rows['the same 1,000 signed all at once (before), CPU ms']?.push(await cpuMs(() => Promise.all(files.map(fileUrl))));
}
console.log(`presign (min / median / max over ${RUNS} runs of ${URLS} URLs); ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1)}`);
console.log('| figure | min | median | max |');
console.log('| --- | ---: | ---: | ---: |');
for (const [label, xs] of Object.entries(rows)) console.log(`| ${label} | ${Math.min(...xs).toFixed(0)} | ${median(xs).toFixed(0)} | ${Math.max(...xs).toFixed(0)} |`);
