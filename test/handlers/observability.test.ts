/**
 * Powertools metrics and tracing through the handlers (issue 3): the business metrics the domain counts
 * reach stdout as CloudWatch EMF, one document per invocation, under namespace Arca and dimension service;
 * requests that count nothing print nothing; the fixtures' environment keeps every other test quiet.
 * DynamoDB Local is real; S3 is mocked, so a commit meets other bytes than declared.
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { S3Event } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startService, testEnv, type Service } from '../fixtures/service.ts';

const s3 = mockClient(S3Client);
let svc: Service;
const VERIFIED = 'a'.repeat(64);
const UNVERIFIED = 'b'.repeat(64);

beforeAll(async () => {
  svc = await startService({
    POWERTOOLS_METRICS_DISABLED: 'false',
    POWERTOOLS_SERVICE_NAME: 'arca',
    // Pinned: a full run's integration setup exports WARN to every worker, and a 422 logs a warning.
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    // What Lambda sets on an on-demand environment; without it there is no cold start to count.
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    ARCA_MAX_VERSIONS_PER_ASSET: '1',
  });
  const { ddb } = await import('../../functions/adapters/dynamo.ts');
  await ddb.send(new PutCommand({ TableName: svc.dynamo.tables.blobs, Item: { sha256: VERIFIED, size: 1, verifiedAt: new Date().toISOString() } }));
});
afterAll(async () => svc?.stop());
afterEach(() => s3.reset());

interface Output {
  /** EMF documents written to stdout. */
  emf: Record<string, unknown>[];
  /** Everything else written to stdout or stderr. */
  other: string[];
}

/** Runs `fn`, capturing what it writes to stdout and stderr (Powertools metrics write EMF to stdout). */
async function captured<T>(fn: () => Promise<T>): Promise<{ result: T } & Output> {
  const out: Output = { emf: [], other: [] };
  const capture = (chunk: unknown) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      if (line.startsWith('{"_aws"')) out.emf.push(JSON.parse(line) as Record<string, unknown>);
      else out.other.push(line);
    }
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    return { result: await fn(), ...out };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

/** The EMF document Powertools writes for one count of `name` (dimension `service` only). */
const countOf = (name: string, value = 1) => ({
  _aws: { Timestamp: expect.any(Number), CloudWatchMetrics: [{ Namespace: 'Arca', Dimensions: [['service']], Metrics: [{ Name: name, Unit: 'Count' }] }] },
  service: 'arca',
  [name]: value,
});

const create = (asset: string, sha256: string) =>
  svc.call('POST', `/v1/assets/${asset}/-/versions`, { body: { version: '1.0.0', files: [{ path: 'm.bin', size: 1, sha256 }] } });

describe('metrics as EMF (Powertools logMetrics in the middy stack)', () => {
  it('the first invocation publishes ColdStart, by function name; a request that counts nothing prints nothing', async () => {
    const first = await captured(() => svc.call('POST', '/v1/assets', { body: { name: 'obs/good', type: 'model' } }));
    expect(first.result.status).toBe(201);
    expect(first.emf).toEqual([
      {
        _aws: {
          Timestamp: expect.any(Number),
          CloudWatchMetrics: [{ Namespace: 'Arca', Dimensions: [['service', 'function_name']], Metrics: [{ Name: 'ColdStart', Unit: 'Count' }] }],
        },
        service: 'arca',
        function_name: 'arca-test',
        ColdStart: 1,
      },
    ]);
    // Not even Powertools' "No application metrics to publish" warning.
    expect(first.other).toEqual([]);
    const read = await captured(() => svc.call('GET', '/v1/assets/obs/good'));
    expect(read.result.status).toBe(200);
    expect([read.emf, read.other]).toEqual([[], []]);
  });

  it('a created version counts VersionsCreated', async () => {
    const out = await captured(() => create('obs/good', VERIFIED));
    expect(out.result).toMatchObject({ status: 201, body: { version: '1.0.0', status: 'ready' } });
    expect([out.emf, out.other]).toEqual([[countOf('VersionsCreated')], []]);
  });

  it('a create refused at the cap counts CapRefusals, and no VersionsCreated', async () => {
    const out = await captured(() => svc.call('POST', '/v1/assets/obs/good/-/versions', { body: { bump: 'minor', files: [{ path: 'm.bin', size: 1, sha256: VERIFIED }] } }));
    expect(out.result).toMatchObject({ status: 409, body: { error: { code: 'VersionCapReached' } } });
    expect([out.emf, out.other]).toEqual([[countOf('CapRefusals')], []]);
  });

  it('a publish counts VersionsPublished', async () => {
    const out = await captured(() => svc.call('POST', '/v1/assets/obs/good/-/versions/1.0.0/publish'));
    expect(out.result).toMatchObject({ status: 200, body: { status: 'published' } });
    expect([out.emf, out.other]).toEqual([[countOf('VersionsPublished')], []]);
    // Publishing again is idempotent and counts nothing.
    const again = await captured(() => svc.call('POST', '/v1/assets/obs/good/-/versions/1.0.0/publish'));
    expect([again.result.status, again.emf]).toEqual([200, []]);
  });

  it('a commit meeting other bytes than declared (422) counts ChecksumMismatches', async () => {
    await svc.call('POST', '/v1/assets', { body: { name: 'obs/bad', type: 'model' } });
    const pending = await captured(() => create('obs/bad', UNVERIFIED));
    expect(pending.result).toMatchObject({ status: 201, body: { status: 'pending' } });
    expect(pending.emf).toEqual([countOf('VersionsCreated')]);
    s3.on(GetObjectCommand).callsFake(async () => ({ Body: Readable.from([Buffer.from('x')]) }));
    const out = await captured(() => svc.call('POST', '/v1/assets/obs/bad/-/versions/1.0.0/commit'));
    expect(out.result).toMatchObject({ status: 422, body: { error: { code: 'ChecksumMismatch' } } });
    expect([out.emf, out.other]).toEqual([[countOf('ChecksumMismatches')], []]);
  });

  it('the ObjectCreated job flushes the mismatch it finds too', async () => {
    const { handler } = await import('../../functions/jobs/finalize.ts');
    s3.on(HeadObjectCommand).resolves({ ContentLength: 1, Metadata: { 'arca-version': 'obs/bad@1.0.0' } });
    s3.on(GetObjectCommand).callsFake(async () => ({ Body: Readable.from([Buffer.from('x')]) }));
    const event = { Records: [{ s3: { bucket: { name: 'arca-test' }, object: { key: `blobs/sha256/${UNVERIFIED}`, size: 1 } } }] } as unknown as S3Event;
    const out = await captured(() => handler(event));
    expect([out.emf, out.other]).toEqual([[countOf('ChecksumMismatches')], []]);
  });
});

describe('tracing (Powertools captureLambdaHandler in the middy stack)', () => {
  it('closes a 4xx as a response, a 5xx or an unmapped error as an error', async () => {
    const { traceHandler } = await import('../../functions/shared/http.ts');
    const traced = { before: vi.fn(), after: vi.fn(), onError: vi.fn() };
    const [middleware] = traceHandler(traced);
    const request = (statusCode?: number) => ({ response: statusCode === undefined ? undefined : { statusCode } }) as never;
    const close = (statusCode?: number) => {
      traced.after.mockClear();
      traced.onError.mockClear();
      middleware?.onError?.(request(statusCode));
      return [traced.after.mock.calls.length, traced.onError.mock.calls.length];
    };
    expect([close(404), close(409), close(422), close(500), close(503), close(undefined)]).toEqual([
      [1, 0],
      [1, 0],
      [1, 0],
      [0, 1],
      [0, 1],
      [0, 1],
    ]);
  });

  it('is off outside Lambda, so the SDK clients are the plain clients and nothing is sent to X-Ray', async () => {
    const { tracer } = await import('../../functions/shared/observability.ts');
    const { dynamoClient } = await import('../../functions/adapters/dynamo.ts');
    // Unbundled, the tracer is loaded (bundles leave it out unless tracing is 'sdk': test/infra/bundling.test.ts).
    expect(tracer).toBeDefined();
    expect(tracer?.isTracingEnabled()).toBe(false);
    expect(dynamoClient.middlewareStack.identify().filter((m) => /xray/i.test(m))).toEqual([]);
  });
});

describe('the test fixtures', () => {
  it('keep metrics off, so other handler tests print no EMF', async () => {
    testEnv(undefined);
    vi.resetModules();
    const { count } = await import('../../functions/shared/metrics.ts');
    const { metrics } = await import('../../functions/shared/observability.ts');
    const out = await captured(async () => {
      count('VersionsCreated');
      metrics.publishStoredMetrics();
    });
    expect([out.emf, out.other]).toEqual([[], []]);
  });
});
