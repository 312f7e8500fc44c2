/**
 * The one infra test that runs esbuild for real (the others skip bundling): every function's asset is an
 * ESM bundle for Node.js 24 with the AWS SDK inside and a source map beside it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { ArcaStack } from '../../lib/stack.ts';
import { openApiDocument } from '../../contract/openapi.ts';
import { CREDENTIALS_MODULE, EVENT_STREAMS_MODULE, OPENAPI_ENTRY, esbuildOptions, type RegistryTracing } from '../../lib/registry.ts';
import { ENV } from '../../contract/env.ts';
import { newStandInSecret, standInCredentials, startS3 } from '../../local/s3.ts';
import { createTables } from '../../functions/adapters/tables.ts';
import { startDynamoLocal } from '../fixtures/dynamo.ts';
import { TEST_TOKEN, apiEvent, lambdaContext } from '../fixtures/events.ts';
import { tableVars } from '../fixtures/service.ts';
import { logicalId, newApp } from './synth.ts';

const execFileAsync = promisify(execFile);

interface BundledResult {
  statusCode: number;
  body: string;
  /** What the function wrote to stderr: its logs at ERROR and above. */
  logs: string;
}

describe('function bundles (SPEC R-DEPLOY: Node.js 24, ESM bundles built by esbuild)', () => {
  const app = newApp({ bundle: true });
  afterAll(() => rmSync(app.outdir, { recursive: true, force: true }));
  const stack = new ArcaStack(app, 'Arca');
  const assembly = app.synth();
  const template = Template.fromStack(stack);
  const functions = template.findResources('AWS::Lambda::Function');
  // A function's code is the asset `asset.<hash>` of the cloud assembly, uploaded as `<hash>.zip`.
  const assets = new Map(
    [...stack.registry.functions].map(([id, fn]) => {
      const key = (functions[logicalId(fn)]!.Properties as { Code: { S3Key: string } }).Code.S3Key;
      return [id, join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`)] as const;
    }),
  );

  it.each([...assets])('%s is a minified ESM bundle with a source map and the AWS SDK bundled in', (_id, dir) => {
    const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(code.length).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
    // ESM: the entry exports `handler`, and CommonJS dependencies get a `require` from the banner.
    // (Assertions on booleans: a failing string match would print a megabyte of bundle.)
    expect(/export\s*\{[^}]*\bas handler\b|export\s*\{\s*handler\b/.test(code)).toBe(true);
    expect(code.startsWith("import { createRequire as __arcaCreateRequire } from 'node:module';")).toBe(true);
    // bundleAwsSDK: no @aws-sdk module is left for the runtime to supply, but the optional CRT signer
    // (SigV4a only) that the SDK itself loads inside a try/catch. esbuild writes module specifiers with
    // double quotes; single-quoted ones are prose in the SDK's error messages.
    const external = new Set([...code.matchAll(/(?:require\(|import\(|from\s*)"(@aws-sdk\/[^"]+)"/g)].map((m) => m[1]));
    expect([...external].filter((m) => m !== '@aws-sdk/signature-v4-crt')).toEqual([]);
    expect(code.includes('//# sourceMappingURL=index.mjs.map')).toBe(true);
    // Minified: lines thousands of characters long (newlines survive only inside template literals).
    expect(code.length / code.split('\n').length).toBeGreaterThan(2000);
  });

  it('the function that serves GET /v1/openapi.json carries the document, generated at synth time, beside its bundle', async () => {
    const [id] = [...stack.registry.functionOptions].find(([, o]) => o.entry === OPENAPI_ENTRY) ?? [];
    expect(id).toBe('ApiRead');
    const dir = assets.get(id ?? '') ?? '';
    expect(JSON.parse(readFileSync(join(dir, 'openapi.json'), 'utf8'))).toEqual(openApiDocument());
    for (const [other, otherDir] of assets) if (other !== id) expect(existsSync(join(otherDir, 'openapi.json'))).toBe(false);

    // The bundle itself answers with that file, in a fresh node process with the function's environment (tokens stubbed).
    const [res] = await runBundled({ ApiRead: functionEnv('ApiRead') }, [['ApiRead', apiEvent('GET', '/v1/openapi.json', { token: null })]]);
    expect({ status: res?.statusCode, body: JSON.parse(res?.body ?? 'null') as unknown }).toEqual({ status: 200, body: openApiDocument() });
  });

  // The handler tests run the sources, where neither stand-in of the bundles (functions/shared/lambdaCredentials.ts,
  // noEventStreams.ts) is in play: this runs the shipped bundles against DynamoDB Local and the local S3 stand-in.
  it('the bundled ApiWrite and ApiRead push, commit and resolve a version on DynamoDB Local and the S3 stand-in', async () => {
    const dynamo = await startDynamoLocal();
    const dir = await mkdtemp(join(tmpdir(), 'arca-bundled-'));
    const credentials = standInCredentials(newStandInSecret());
    const s3 = await startS3({ dir, bucket: 'arca-bundled', credentials });
    // DynamoDB Local keeps a database per access key: the tables are made with the key the functions sign with.
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials });
    try {
      const tables = await createTables(client, 'bundled-');
      const local: Record<string, string> = {
        ...tableVars(tables),
        [ENV.dynamoEndpoint]: dynamo.endpoint,
        [ENV.s3Endpoint]: s3.url,
        [ENV.bucket]: 'arca-bundled',
        [ENV.authMode]: 'token',
        [ENV.localToken]: TEST_TOKEN,
        [ENV.verifyMode]: 'hash',
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      };
      const envs = { ApiRead: { ...functionEnv('ApiRead'), ...local }, ApiWrite: { ...functionEnv('ApiWrite'), ...local } };
      const bytes = Buffer.from('bundled weights');
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const [asset, created] = await runBundled(envs, [
        ['ApiWrite', apiEvent('POST', '/v1/assets', { body: { name: 'bundled/model', type: 'model' } })],
        ['ApiWrite', apiEvent('POST', '/v1/assets/bundled/model/-/versions', { body: { files: [{ path: 'model.bin', size: bytes.length, sha256 }] } })],
      ]);
      expect([asset?.statusCode, created?.statusCode]).toEqual([201, 201]);
      const upload = (JSON.parse(created!.body) as { files: { upload: { url: string; headers: Record<string, string> } }[] }).files[0]!.upload;
      const { 'content-length': _length, ...headers } = upload.headers;
      expect((await fetch(upload.url, { method: 'PUT', headers, body: bytes })).status).toBe(200);

      const [commit, resolved] = await runBundled(envs, [
        ['ApiWrite', apiEvent('POST', '/v1/assets/bundled/model/-/versions/1.0.0/commit')],
        ['ApiRead', apiEvent('GET', '/v1/resolve/bundled/model:^1/model.bin')],
      ]);
      expect(commit?.statusCode).toBe(200);
      expect(JSON.parse(commit!.body)).toMatchObject({ version: '1.0.0', status: 'ready' });
      expect(resolved?.statusCode).toBe(200);
      const version = JSON.parse(resolved!.body) as { version: string; files: { path: string; url: string; sha256: string }[] };
      expect({ version: version.version, files: version.files.map((f) => [f.path, f.sha256]) }).toEqual({ version: '1.0.0', files: [['model.bin', sha256]] });
      expect(Buffer.from(await (await fetch(version.files[0]!.url)).arrayBuffer())).toEqual(bytes);
    } finally {
      client.destroy();
      await s3.stop();
      await dynamo.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("a 500's logged stack trace names the TypeScript sources, mapped when it is formatted (functions/shared/bundleStackTraces.ts)", async () => {
    // The tables were made with another access key, so this one finds none (DynamoDB Local keeps a database per key).
    const dynamo = await startDynamoLocal();
    try {
      const env = { ...functionEnv('ApiRead'), [ENV.dynamoEndpoint]: dynamo.endpoint, [ENV.authMode]: 'token', [ENV.localToken]: TEST_TOKEN, POWERTOOLS_LOG_LEVEL: 'ERROR' };
      const [res] = await runBundled({ ApiRead: env }, [['ApiRead', apiEvent('GET', '/v1/assets/bundled/model')]]);
      expect(res?.statusCode).toBe(500);
      const logged = JSON.parse(res!.logs.trim().split('\n').at(-1)!) as { message: string; error: { name: string; stack: string } };
      expect({ message: logged.message, name: logged.error.name }).toEqual({ message: 'unhandled error', name: 'ResourceNotFoundException' });
      const frames = logged.error.stack.split('\n').slice(1);
      expect(frames.some((f) => / \(\/.*\/functions\/adapters\/dynamoBase\.ts:\d+:\d+\)$/.test(f))).toBe(true);
      expect(frames.some((f) => / \(\/.*\/node_modules\/@aws-sdk\/core\/.+\.js:\d+:\d+\)$/.test(f))).toBe(true);
      expect(frames.filter((f) => f.includes('index.mjs'))).toEqual([]);
    } finally {
      await dynamo.stop();
    }
  }, 60_000);

  /** A function's environment in the template, tokens stubbed. */
  function functionEnv(id: string): Record<string, string> {
    const vars = (functions[logicalId(stack.registry.functions.get(id)!)]!.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : `test-${k.toLowerCase()}`]));
  }

  /**
   * Sends `events` in turn, each to its function's bundle imported in a fresh node process with that function's
   * environment, and returns the results with what the function logged. Asynchronous: the S3 stand-in answers
   * from this process.
   */
  async function runBundled(envs: Record<string, Record<string, string>>, events: [string, unknown][]): Promise<BundledResult[]> {
    const results: BundledResult[] = [];
    for (const [id, event] of events) {
      const script =
        `const { handler } = await import(${JSON.stringify(pathToFileURL(join(assets.get(id)!, 'index.mjs')).href)}); ` +
        `const res = await handler(${JSON.stringify(event)}, ${JSON.stringify(lambdaContext())}); ` +
        'process.stdout.write(JSON.stringify(res));';
      const { stdout, stderr } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], {
        env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true', ...envs[id] },
        encoding: 'utf8',
      });
      results.push({ ...(JSON.parse(stdout) as { statusCode: number; body: string }), logs: stderr });
    }
    return results;
  }
});

/** esbuild's inputs for `entry` under `functionBundling(tracing)`: the files that bundle holds. */
async function bundledFiles(entry: string, tracing: RegistryTracing): Promise<string[]> {
  const result = await build(esbuildOptions(entry, tracing));
  // Bytes in the output, not files parsed: esbuild reads modules it then shakes out entirely.
  return Object.entries(Object.values(result.metafile.outputs)[0]!.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([path]) => path);
}

/** The packages the bundle of `entry` holds. */
async function bundledPackages(entry: string, tracing: RegistryTracing): Promise<Set<string>> {
  return new Set((await bundledFiles(entry, tracing)).map((i) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(i)?.[1] ?? i));
}

describe('what the bundles leave out (issue 11: bundle size)', () => {
  it("without tracing 'sdk', no Powertools tracer and no X-Ray SDK; with it, both", async () => {
    for (const tracing of ['active', 'off'] as const) {
      const packages = await bundledPackages('functions/api/read.ts', tracing);
      expect(packages.has('@aws-lambda-powertools/metrics')).toBe(true);
      expect([...packages].filter((p) => /tracer|xray/.test(p))).toEqual([]);
    }
    const sdk = await bundledPackages('functions/api/read.ts', 'sdk');
    expect([...sdk].filter((p) => /tracer|xray/.test(p)).sort()).toEqual(['@aws-lambda-powertools/tracer', 'aws-xray-sdk-core']);
  });

  it('the read function holds no S3 client, no OpenAPI generator, no idempotency and no URL guard; the write function has idempotency', async () => {
    const read = await bundledPackages('functions/api/read.ts', 'active');
    expect([...read].filter((p) => /client-s3|zod-to-openapi|idempotency|jmespath|ipaddr/.test(p))).toEqual([]);
    expect(read.has('@aws-sdk/s3-request-presigner')).toBe(true);
    const write = await bundledPackages('functions/api/write.ts', 'active');
    expect(['@aws-sdk/client-s3', '@aws-lambda-powertools/idempotency'].filter((p) => !write.has(p))).toEqual([]);
  });

  it("the jobs hold none of node-semver's range code (contract/semverRanges.ts); the read function, which resolves ranges, does", async () => {
    const rangeCode = (files: string[]) => files.filter((f) => /semver\/(classes\/(range|comparator)|ranges\/)/.test(f));
    for (const job of ['functions/jobs/finalize.ts', 'functions/jobs/sweeper.ts', 'functions/jobs/gc.ts']) {
      expect({ job, range: rangeCode(await bundledFiles(job, 'active')) }).toEqual({ job, range: [] });
    }
    expect(rangeCode(await bundledFiles('functions/api/read.ts', 'active'))).toContain('node_modules/semver/classes/range.js');
  });

  it('no bundle holds the event-stream codec (functions/shared/noEventStreams.ts stands in for it)', async () => {
    for (const entry of ['functions/api/read.ts', 'functions/api/write.ts', 'functions/jobs/finalize.ts', 'functions/events/stream.ts']) {
      const files = await bundledFiles(entry, 'active');
      expect({ entry, codec: files.filter((f) => /event-streams|eventstream/.test(f)), standIn: files.includes(EVENT_STREAMS_MODULE) }).toEqual({ entry, codec: [], standIn: true });
    }
  });

  it('the credential chain is fromEnv alone (functions/shared/lambdaCredentials.ts): no STS/SSO clients, no INI or IMDS providers', async () => {
    const packages = await bundledPackages('functions/api/write.ts', 'active');
    expect(packages.has(CREDENTIALS_MODULE)).toBe(true);
    expect([...packages].filter((p) => /nested-clients|credential-provider-(node|ini|sso|imds|process|web-identity)/.test(p))).toEqual([]);
  });
});
