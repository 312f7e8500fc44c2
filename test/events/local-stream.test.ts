/**
 * Local mode's stream poller (local/events.ts) on DynamoDB Local: it resumes after its checkpoint on a
 * restart, and a replay of the same stream records (checkpoint lost) yields the same eventIds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../../contract/env.ts';
import type { WebhookPayload } from '../../contract/events.ts';
import { localSecretBox } from '../../functions/hooks/secrets.ts';
import { startDynamoLocal, type DynamoLocal } from '../fixtures/dynamo.ts';

const KEY = '22'.repeat(32);
let dynamo: DynamoLocal;
let dir: string;
let receiver: http.Server;
const received: WebhookPayload[] = [];

beforeAll(async () => {
  dynamo = await startDynamoLocal();
  dir = await mkdtemp(path.join(tmpdir(), 'arca-stream-'));
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    [ENV.hooksTable]: dynamo.tables.hooks,
    [ENV.deliveriesTable]: dynamo.tables.deliveries,
    [ENV.dynamoEndpoint]: dynamo.endpoint,
    [ENV.hookSecretKey]: KEY,
    [ENV.hooksAllowInsecure]: 'true',
  });
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push(JSON.parse(body) as WebhookPayload);
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const id = 'f'.repeat(32);
  await doc().send(
    new PutCommand({
      TableName: dynamo.tables.hooks,
      Item: {
        id,
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
        events: ['Alias Updated'],
        secret: await localSecretBox(KEY).seal(id, 'stream-test-secret'),
        createdAt: new Date().toISOString(),
        createdBy: 'test',
      },
    }),
  );
});

afterAll(async () => {
  receiver?.close();
  await dynamo?.stop();
  await rm(dir, { recursive: true, force: true });
});

const doc = () => DynamoDBDocumentClient.from(dynamo.client);
const setAlias = (alias: string, version: string) =>
  doc().send(
    new PutCommand({
      TableName: dynamo.tables.aliases,
      Item: { asset: 'stream/model', alias, version, updatedBy: 'tester', updatedAt: new Date().toISOString() },
    }),
  );

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function events(checkpointFile: string) {
  const { startEvents } = await import('../../local/events.ts');
  return startEvents({ dynamo: dynamo.client, endpoint: dynamo.endpoint, tables: dynamo.tables, checkpointFile, pollMs: 50, recordAttempts: 3 });
}

describe('local stream poller', () => {
  it('resumes after its checkpoint, and replays with the same eventIds when the checkpoint is lost', async () => {
    const checkpoint = path.join(dir, 'checkpoint.json');
    const first = await events(checkpoint);
    await setAlias('a', '1.0.0');
    await setAlias('b', '1.0.0');
    await until(() => received.length >= 2, 'the first two events');
    await first.stop();
    const firstIds = received.map((p) => p.id);
    expect(received.map((p) => p.detail.alias).sort()).toEqual(['a', 'b']);

    // Restart with the checkpoint: only what changed since is delivered.
    const second = await events(checkpoint);
    await setAlias('c', '2.0.0');
    await until(() => received.length >= 3, 'the third event');
    await new Promise((r) => setTimeout(r, 500));
    await second.stop();
    expect(received).toHaveLength(3);
    expect(received[2]?.detail).toMatchObject({ alias: 'c', version: '2.0.0', actor: 'tester' });

    // The checkpoint lost: the stream is read again from its start, and every replayed event keeps its id.
    await rm(checkpoint);
    const third = await events(checkpoint);
    await until(() => received.length >= 6, 'the replay');
    await new Promise((r) => setTimeout(r, 500));
    await third.stop();
    const replayed = received.slice(3);
    expect(replayed).toHaveLength(3);
    expect(replayed.map((p) => p.id).sort()).toEqual([...firstIds, received[2]?.id].sort());
  });

  it('sets a record that keeps failing aside after its attempts, so the records behind it still flow', async () => {
    const before = received.length;
    const poller = await events(path.join(dir, 'poison.json'));
    // Read from the start: the records of the test above are replayed first.
    await until(() => received.length >= before + 3, 'the replay');
    // An alias item without a version cannot be an event: deriving it throws, every time.
    await doc().send(new PutCommand({ TableName: dynamo.tables.aliases, Item: { asset: 'stream/model', alias: 'broken' } }));
    await setAlias('d', '3.0.0');
    await until(() => received.some((p) => p.detail.alias === 'd'), 'the record behind the poisoned one');
    await poller.stop();
    expect(received.filter((p) => p.detail.alias === 'broken')).toEqual([]);
  });

  it('reads a missing, corrupt or foreign checkpoint file as no checkpoint (the streams are read again) instead of failing to start', async () => {
    const { loadCheckpoints } = await import('../../local/events.ts');
    const file = path.join(dir, 'checkpoint-cases.json');
    expect(await loadCheckpoints(path.join(dir, 'none.json'))).toEqual({});
    for (const corrupt of ['{"arn|shard": "1', '[1, 2]', '{"arn|shard": 5}', 'null']) {
      await writeFile(file, corrupt);
      expect(await loadCheckpoints(file)).toEqual({});
    }
    await writeFile(file, JSON.stringify({ 'arn|shard': '000123' }));
    expect(await loadCheckpoints(file)).toEqual({ 'arn|shard': '000123' });
  });
});
