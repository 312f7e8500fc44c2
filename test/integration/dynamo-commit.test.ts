/**
 * DynamoDB Local answers a transaction before its SQLite COMMIT has run (the COMMIT is queued on the database
 * thread), so a kill -9 right after a 2xx can lose an acknowledged write. Local mode closes that gap with
 * `transactionsDurable` (local/dynamo.ts), awaited after every write handler. This test drives DynamoDB Local
 * alone, with the same barrier after each acknowledged transaction, and kills its JVM the instant an
 * acknowledgement arrives, several times. Without the barrier this test fails: the acknowledged transaction (or
 * one in flight beside it) is missing after the restart in most runs (figures in docs/hardening.md).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, ScanCommand, TransactWriteItemsCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, spawnLoopbackDynamo, transactionsDurable } from '../../local/dynamo.ts';

const TABLE = 'commits';
const WORKERS = 24;
const KILLS = 5;
const ITEMS_PER_TRANSACTION = 10;
const PAD = 'x'.repeat(2000);

let dbPath = '';
let current: { child: ChildProcess; client: DynamoDBClient } | undefined;

afterAll(async () => {
  current?.child.kill('SIGKILL');
  if (dbPath) await rm(dbPath, { recursive: true, force: true });
});

async function up(): Promise<{ child: ChildProcess; client: DynamoDBClient }> {
  const port = await freePort();
  const child = spawnLoopbackDynamo({ port, dbPath });
  // One attempt: a write that fails (the JVM is gone) must not be retried and counted as acknowledged later.
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      return { child, client };
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function keysOnDisk(client: DynamoDBClient): Promise<Set<string>> {
  const seen = new Set<string>();
  let start: ScanCommandOutput['LastEvaluatedKey'];
  do {
    const page = await client.send(new ScanCommand({ TableName: TABLE, ExclusiveStartKey: start, ProjectionExpression: 'pk' }));
    for (const item of page.Items ?? []) seen.add(item.pk!.S!);
    start = page.LastEvaluatedKey;
  } while (start);
  return seen;
}

describe('DynamoDB Local under kill -9', () => {
  it(`keeps every transaction acknowledged after the durability barrier, across ${KILLS} kills mid-burst`, { timeout: 300_000 }, async () => {
    dbPath = await mkdtemp(path.join(tmpdir(), 'arca-commit-'));
    current = await up();
    await current.client.send(
      new CreateTableCommand({ TableName: TABLE, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }),
    );
    const lostPerKill: number[] = [];
    let total = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const { child, client } = current;
      const durable = transactionsDurable(client, TABLE, 'pk');
      const acknowledged: string[] = [];
      let killed = false;
      const worker = async (w: number): Promise<void> => {
        for (let i = 0; !killed; i++) {
          const id = `k${kill}-w${w}-${i}`;
          try {
            const items = Array.from({ length: ITEMS_PER_TRANSACTION }, (_, n) => ({ Put: { TableName: TABLE, Item: { pk: { S: `${id}/${n}` }, pad: { S: PAD } } } }));
            await client.send(new TransactWriteItemsCommand({ TransactItems: items }));
            await durable();
          } catch {
            return; // the JVM is gone: this write was never acknowledged
          }
          if (killed) return;
          acknowledged.push(id);
          // The widest window there is: the JVM dies the instant an acknowledgement arrives, with the other
          // workers' transactions still in flight behind it.
          if (Date.now() >= killAt) kill();
        }
      };
      const exited = new Promise((r) => child.once('exit', r));
      const kill = () => {
        killed = true;
        child.kill('SIGKILL');
      };
      const killAt = Date.now() + 700 + Math.random() * 1500;
      const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
      await Promise.all(workers);
      await exited;
      client.destroy();

      current = await up();
      const onDisk = await keysOnDisk(current.client);
      const lost = acknowledged.filter((id) => !Array.from({ length: ITEMS_PER_TRANSACTION }, (_, n) => `${id}/${n}`).every((key) => onDisk.has(key)));
      lostPerKill.push(lost.length);
      total += acknowledged.length;
    }
    expect(total).toBeGreaterThan(KILLS * WORKERS); // the burst really ran between kills
    expect(lostPerKill).toEqual(Array(KILLS).fill(0));
  });
});
