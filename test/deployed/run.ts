/**
 * HTTP scenarios against a deployed stage: what only real AWS can prove — IAM (SigV4) on the API, S3
 * checking the signed SHA-256 and signature of presigned PUTs, the create-only bucket policy, and that
 * nobody but the garbage collector may delete a blob.
 *
 *   npx cdk deploy --outputs-file cdk-outputs.json -c initialAdmins=<your principal ARN>
 *   npx tsx test/deployed/run.ts                 # reads cdk-outputs.json (or ARCA_DEPLOYED_OUTPUTS)
 *   ARCA_DEPLOYED_URL=https://…execute-api…/ npx tsx test/deployed/run.ts   # API scenarios only
 *
 * Credentials come from the standard AWS chain (env, profile, SSO, instance role). Without a configured
 * stage the script says so and exits 0, so it can sit in CI for teams without an account.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { DeleteObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import { STACK_NAME, readStackOutputs } from '../../bin/stackOutputs.ts';
import type { ResolveResult, VersionRecord } from '../../contract/schemas.ts';

interface Stage {
  url: string;
  region: string;
  bucket?: string;
}

function findStage(): Stage | undefined {
  let url = process.env.ARCA_DEPLOYED_URL;
  let bucket: string | undefined;
  const outputs = url ? undefined : readStackOutputs();
  if (outputs) {
    const stack = outputs[STACK_NAME] ?? Object.values(outputs)[0];
    url = stack?.ApiUrl;
    bucket = stack?.BucketName;
  }
  if (!url) return undefined;
  const region = process.env.AWS_REGION ?? /execute-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(url)?.[1];
  if (!region) throw new Error(`cannot tell the region of ${url}: set AWS_REGION`);
  return { url: url.replace(/\/+$/, ''), region, bucket };
}

const stage = findStage();
if (!stage) {
  console.log(
    'No deployed stage configured: skipping. Deploy with `npx cdk deploy --outputs-file cdk-outputs.json`, ' +
      'or set ARCA_DEPLOYED_URL (API only) or ARCA_DEPLOYED_OUTPUTS (path of the outputs file).',
  );
  process.exit(0);
}

const credentials = fromNodeProviderChain();
const signer = new SignatureV4({ service: 'execute-api', region: stage.region, credentials, sha256: Sha256 });

interface Response<T> {
  status: number;
  body: T;
  text: string;
}

async function api<T = unknown>(method: string, path: string, json?: unknown, signed = true): Promise<Response<T>> {
  const url = new URL(`${stage!.url}${path}`);
  const body = json === undefined ? undefined : JSON.stringify(json);
  const headers: Record<string, string> = { host: url.host, ...(body ? { 'content-type': 'application/json' } : {}) };
  const request = signed
    ? await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        body,
      })
    : { headers };
  const res = await fetch(url, { method, headers: request.headers as Record<string, string>, body, redirect: 'manual' });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed as T, text };
}

const results: { name: string; ok: boolean; detail: string }[] = [];
function check(name: string, ok: boolean, detail = ''): void {
  results.push({ name, ok, detail });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok || !detail ? '' : ` — ${detail}`}`);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const name = `deployed-test/run-${randomUUID().slice(0, 8)}`;
const bytes = randomBytes(4096);

console.log(`Stage ${stage.url} (${stage.region}), asset ${name}\n`);

const health = await api('GET', '/v1/health', undefined, false);
check('GET /v1/health answers without credentials', health.status === 200, health.text);

const unsigned = await api('GET', '/v1/assets', undefined, false);
check('an unsigned request is refused by IAM authorization', unsigned.status === 403, `${unsigned.status} ${unsigned.text}`);

const created = await api('POST', '/v1/assets', { name, type: 'model', description: 'deployed-stage test' });
check('a signed request creates an asset', created.status === 201, `${created.status} ${created.text}`);
if (created.status === 403) {
  console.log('\nThe registry refused this principal: deploy with -c initialAdmins=<your principal ARN>.');
  process.exit(1);
}

const version = await api<VersionRecord>('POST', `/v1/assets/${name}/-/versions`, {
  version: '1.0.0',
  files: [{ path: 'model.bin', size: bytes.length, sha256: sha256(bytes) }],
});
check('a version is created pending with one presigned PUT', version.status === 201 && !!version.body.files[0]?.upload, version.text);
const upload = version.body.files?.[0]?.upload;

if (upload) {
  const put = (body: Buffer, headers = upload.headers) => fetch(upload.url, { method: upload.method, headers, body });

  const tampered = await put(bytes, { ...upload.headers, 'content-length': String(bytes.length + 1) });
  check('S3 refuses a PUT whose signed headers were changed', tampered.status === 403, `${tampered.status}`);

  const other = Buffer.from(bytes);
  other[0] = other[0]! ^ 0xff;
  const wrong = await put(other);
  check('S3 refuses bytes that do not match the signed SHA-256', wrong.status === 400, `${wrong.status} ${await wrong.text()}`);

  const first = await put(bytes);
  check('the declared bytes upload', first.status === 200, `${first.status} ${await first.text()}`);

  const again = await put(bytes);
  check('a second PUT to the same key is refused (If-None-Match: *)', again.status === 412, `${again.status}`);

  const committed = await api<VersionRecord>('POST', `/v1/assets/${name}/-/versions/1.0.0/commit`);
  check('commit makes the version ready', committed.status === 200 && committed.body.status === 'ready', committed.text);

  const resolved = await api<ResolveResult>('GET', `/v1/resolve/${name}:1.0.0`);
  const fileUrl = resolved.body?.files?.[0]?.url;
  check('resolve returns a presigned download', resolved.status === 200 && !!fileUrl, resolved.text);
  if (fileUrl) {
    const download = Buffer.from(await (await fetch(fileUrl)).arrayBuffer());
    check('the downloaded bytes have the declared SHA-256', sha256(download) === sha256(bytes));
  }

  if (stage.bucket && fileUrl) {
    const s3 = new S3Client({ region: stage.region, credentials });
    // The verified object the version names (its upload's own key, blobs/sha256/<hex>/<nonce>), virtual-hosted or path-style.
    const key = decodeURIComponent(new URL(fileUrl).pathname).replace(new RegExp(`^/(${stage.bucket}/)?`), '');
    const refused = async (send: () => Promise<unknown>) => {
      try {
        await send();
        return 'allowed';
      } catch (err) {
        return err instanceof S3ServiceException ? err.name : String(err);
      }
    };
    const overwrite = await refused(() => s3.send(new PutObjectCommand({ Bucket: stage.bucket, Key: key, Body: bytes })));
    check('the bucket policy refuses a PutObject without If-None-Match, whatever the caller', overwrite === 'AccessDenied', overwrite);
    const removal = await refused(() => s3.send(new DeleteObjectCommand({ Bucket: stage.bucket, Key: key })));
    check('the bucket policy refuses a DeleteObject by anyone but the garbage collector', removal === 'AccessDenied', removal);
  } else {
    console.log('(bucket scenarios skipped: no BucketName output; pass the outputs file)');
  }
}

const removed = await api('DELETE', `/v1/assets/${name}?force=true&reason=${encodeURIComponent('deployed-stage test cleanup')}`);
check('the test asset is deleted (admin)', removed.status === 200 || removed.status === 204, `${removed.status} ${removed.text}`);

const failed = results.filter((r) => !r.ok);
console.log(`\n${results.length - failed.length}/${results.length} passed`);
process.exit(failed.length === 0 ? 0 : 1);
