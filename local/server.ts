/**
 * Starts the whole registry in this process: DynamoDB Local with the tables of contract/tables.ts, the S3
 * stand-in behind its verifying front, and the API on the same Lambda handlers as AWS.
 *
 * The handlers read their configuration once, at module load, from process.env; so the environment is set
 * before they are imported, and one process runs at most one local registry.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULTS, ENV, type EnvName } from '../contract/env.ts';
import type { RouteGroup } from '../contract/routes.ts';
import { createTables, type TableNames } from '../functions/adapters/tables.ts';
import { TABLES } from '../contract/tables.ts';
import { startDynamo, transactionsDurable } from './dynamo.ts';
import { createApiServer, formatRequestLine, type ApiHandler, type RequestLogEntry } from './http.ts';
import { newStandInSecret, standInCredentials, startS3, toS3Event } from './s3.ts';
import type { ObjectCreated } from './s3-front.ts';

export const DEFAULT_PORT = 4100;
export const DEFAULT_DATA_DIR = '.arca';
export const LOCAL_BUCKET = 'arca-local';
export const TABLE_PREFIX = 'arca-local-';

export interface LocalOptions {
  /** Where tables, blobs and the token live. Default `ARCA_DATA_DIR`, else `.arca`. */
  dataDir?: string;
  /** API port; `0` picks a free one. Default `ARCA_PORT`, else 4100. */
  port?: number;
  /** Keep DynamoDB Local in memory (tests); blobs still go under `dataDir`. Default false. */
  inMemory?: boolean;
  /** Service settings by the names of contract/env.ts (e.g. `ARCA_MAX_VERSIONS_PER_ASSET`), over local mode's defaults. */
  env?: Partial<Record<EnvName, string>>;
  /** Where handler failures (500s) are reported. Default: stderr. */
  onError?: (error: unknown) => void;
  /** Receives one access-log line per API request (`npm start` prints them). Default: none. */
  requestLog?: (line: string) => void;
}

export interface LocalRegistry {
  /** The API's base URL, e.g. `http://127.0.0.1:4100`. */
  url: string;
  /** The admin bearer token. */
  token: string;
  /** The S3 endpoint (the verifying front) that presigned URLs point at. */
  s3Url: string;
  /** s3rver itself, bypassing the front: only for tests that must put unverified bytes in the store. */
  s3StoreUrl: string;
  /** The header value s3rver requires (x-arca-front-token), for the same tests. */
  s3StoreToken: string;
  dynamoEndpoint: string;
  bucket: string;
  tables: TableNames;
  dataDir: string;
  /** The stand-in's key pair (DynamoDB Local accepts any). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

let running = false;

/** The secret kept in `file` (owner-only), made by `make` on the first start so restarts keep it. */
async function loadSecret(file: string, make: () => string): Promise<string> {
  const existing = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (existing) return existing;
  const secret = make();
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

const consoleFile = (name: string): Promise<string> => readFile(fileURLToPath(new URL(`./console/${name}`, import.meta.url)), 'utf8');
const CONSOLE_ASSETS = ['app.js', 'auth.js', 'pkce.js', 'console.css'];

/** The S3 ObjectCreated job, as the bucket notification invokes it in AWS; events are delivered in-process. */
function objectCreatedDelivery(onError: (error: unknown) => void) {
  const inFlight = new Set<Promise<void>>();
  let deliver: ((created: ObjectCreated) => Promise<void>) | undefined;
  return {
    notify(created: ObjectCreated): void {
      if (!deliver) return;
      const p = deliver(created).catch(onError);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    },
    async connect(): Promise<void> {
      const finalize = await import('../functions/jobs/finalize.ts');
      deliver = (created) => finalize.handler(toS3Event(created));
    },
    async drain(): Promise<void> {
      deliver = undefined;
      await Promise.all(inFlight);
    },
  };
}

/** The stack's scheduled jobs (lib/registry.ts), on the same rates: pending-version expiry and blob GC. */
const SCHEDULE = [
  { job: 'sweeper', everyMs: 15 * 60_000, load: () => import('../functions/jobs/sweeper.ts') },
  { job: 'gc', everyMs: 6 * 3600_000, load: () => import('../functions/jobs/gc.ts') },
] as const;

async function scheduleJobs(onError: (error: unknown) => void): Promise<() => Promise<void>> {
  const running = new Set<Promise<unknown>>();
  const timers = await Promise.all(
    SCHEDULE.map(async ({ everyMs, load }) => {
      const { handler } = await load();
      const timer = setInterval(() => {
        const run = handler().catch(onError);
        running.add(run);
        void run.finally(() => running.delete(run));
      }, everyMs);
      timer.unref();
      return timer;
    }),
  );
  return async () => {
    timers.forEach(clearInterval);
    await Promise.all(running);
  };
}

/**
 * The API's two handlers. The write group answers only once what it wrote is on disk (`durable`, see
 * `transactionsDurable`), so an acknowledged write survives a `kill -9` of local mode; the read group writes
 * nothing (functions/api/read.ts) and needs no barrier.
 */
async function loadHandlers(durable: () => Promise<void>): Promise<Record<RouteGroup, ApiHandler>> {
  const [read, write] = await Promise.all([import('../functions/api/read.ts'), import('../functions/api/write.ts')]);
  const afterDurable =
    (handler: ApiHandler): ApiHandler =>
    async (event, context) => {
      try {
        return await handler(event, context);
      } finally {
        await durable();
      }
    };
  return { read: read.handler as ApiHandler, write: afterDurable(write.handler as ApiHandler) };
}

export async function startLocal(opts: LocalOptions = {}): Promise<LocalRegistry> {
  if (running) throw new Error('a local registry is already running in this process (the handlers read their configuration once)');
  running = true;
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
    running = false;
  };
  try {
    const dataDir = path.resolve(opts.dataDir ?? process.env.ARCA_DATA_DIR ?? DEFAULT_DATA_DIR);
    await mkdir(dataDir, { recursive: true });
    const token = await loadSecret(path.join(dataDir, 'token'), () => `arca_${randomBytes(24).toString('base64url')}`);

    const onError = opts.onError ?? ((error: unknown) => console.error('arca local: handler failed', error));
    const objectCreated = objectCreatedDelivery(onError);
    // The stand-in's secret, kept with the data it guards: never a constant anyone can presign with.
    const credentials = standInCredentials(await loadSecret(path.join(dataDir, 's3-key'), newStandInSecret));
    const [dynamo, s3] = await Promise.all([
      startDynamo({ dbPath: opts.inMemory ? undefined : path.join(dataDir, 'dynamodb') }),
      startS3({ dir: path.join(dataDir, 's3'), bucket: LOCAL_BUCKET, credentials, onObjectCreated: (created) => objectCreated.notify(created) }),
    ]);
    stops.push(dynamo.stop, s3.stop, objectCreated.drain);
    const tables = await createTables(dynamo.client, TABLE_PREFIX);

    const serviceEnv: Partial<Record<EnvName, string>> = {
      [ENV.assetsTable]: tables.assets,
      [ENV.versionsTable]: tables.versions,
      [ENV.aliasesTable]: tables.aliases,
      [ENV.blobsTable]: tables.blobs,
      [ENV.idempotencyTable]: tables.idempotency,
      [ENV.hooksTable]: tables.hooks,
      [ENV.deliveriesTable]: tables.deliveries,
      [ENV.outputsTable]: tables.outputs,
      [ENV.lineageTable]: tables.lineage,
      [ENV.grantsTable]: tables.grants,
      [ENV.auditTable]: tables.audit,
      // Local mode seals webhook secrets with this key where AWS uses KMS (kept beside the data it protects).
      [ENV.hookSecretKey]: await loadSecret(path.join(dataDir, 'hook-key'), () => randomBytes(32).toString('hex')),
      [ENV.hooksAllowInsecure]: 'true',
      [ENV.bucket]: LOCAL_BUCKET,
      [ENV.s3Endpoint]: s3.url,
      [ENV.s3PublicEndpoint]: s3.url,
      [ENV.dynamoEndpoint]: dynamo.endpoint,
      [ENV.verifyMode]: 'hash',
      [ENV.authMode]: 'token',
      [ENV.localToken]: token,
      ...opts.env,
    };
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      POWERTOOLS_SERVICE_NAME: process.env.POWERTOOLS_SERVICE_NAME ?? 'arca',
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_METRICS_DISABLED: 'true',
      // GRACE_HOURS_ENV of functions/jobs/gc.ts, derived as the stack does: longer than any pending version lives.
      ARCA_GC_GRACE_HOURS: String(Number(opts.env?.[ENV.pendingTtlHours] ?? DEFAULTS.pendingTtlHours) + 24),
      ...serviceEnv,
    });
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;

    const handlers = await loadHandlers(transactionsDurable(dynamo.client, tables.assets, TABLES.assets.partitionKey.name));
    // A data directory from an older release holds published versions that `stage=published` reads only once backfilled.
    const { backfillPublished } = await import('../functions/jobs/backfillPublished.ts');
    await backfillPublished(DynamoDBDocumentClient.from(dynamo.client), tables.versions);
    // Commit and the ObjectCreated job take the digest the S3 front computed as the parts arrived (local/arrivals.ts).
    const { useArrivedDigests } = await import('../functions/adapters/s3.ts');
    useArrivedDigests((key) => s3.arrivedDigest(key));
    stops.push(async () => useArrivedDigests(undefined));
    await objectCreated.connect();
    stops.push(await scheduleJobs(onError));
    // The outbox: table streams → events (logged) → webhooks, on the same code as the Lambda consumer.
    const { startEvents } = await import('./events.ts');
    const events = await startEvents({ dynamo: dynamo.client, endpoint: dynamo.endpoint, tables, checkpointFile: path.join(dataDir, 'events-checkpoint.json') });
    stops.push(events.stop);
    const server = createApiServer({
      handlers,
      consoleHtml: await consoleFile('index.html'),
      consoleAssets: Object.fromEntries(await Promise.all(CONSOLE_ASSETS.map(async (name) => [name, await consoleFile(name)]))),
      onError,
      ...(opts.requestLog ? { onRequest: (entry: RequestLogEntry) => opts.requestLog!(formatRequestLine(entry)) } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? Number(process.env.ARCA_PORT ?? DEFAULT_PORT), '127.0.0.1', () => resolve());
    });
    stops.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      token,
      s3Url: s3.url,
      s3StoreUrl: s3.storeUrl,
      s3StoreToken: s3.storeToken,
      dynamoEndpoint: dynamo.endpoint,
      bucket: LOCAL_BUCKET,
      tables,
      dataDir,
      credentials: { ...credentials },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
