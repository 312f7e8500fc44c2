/** The AWS entries of the outbox: the DynamoDB stream consumer and the SQS delivery worker, SDKs mocked. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBRecord, DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { ENV } from '../../contract/env.ts';
import { maxAttempts, DEFAULT_RETRY } from '../../contract/retry.ts';
import { verifyWebhook } from '../../client/webhooks.ts';

Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  POWERTOOLS_LOG_LEVEL: 'CRITICAL',
  POWERTOOLS_METRICS_DISABLED: 'true',
  [ENV.hooksTable]: 'Hooks',
  [ENV.deliveriesTable]: 'Deliveries',
  [ENV.lineageTable]: 'Lineage',
  [ENV.eventBus]: 'arca-bus',
  [ENV.deliveryQueueUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/deliveries',
  [ENV.hookKeyId]: 'arn:aws:kms:eu-west-1:123456789012:key/hooks',
  // The receiver below listens on loopback http.
  [ENV.hooksAllowInsecure]: 'true',
});
const { handler: streamHandler } = await import('../../functions/events/stream.ts');
const { handler: workerHandler } = await import('../../functions/events/worker.ts');

const eventBridge = mockClient(EventBridgeClient);
const sqs = mockClient(SQSClient);
const kms = mockClient(KMSClient);
const ddb = mockClient(DynamoDBDocumentClient);
afterEach(() => {
  eventBridge.reset();
  sqs.reset();
  kms.reset();
  ddb.reset();
});

const SECRET = 'whsec_unit-test-secret';
const hookItem = (url: string) => ({
  id: 'a'.repeat(32),
  url,
  events: ['Asset Version Created'],
  assetPrefix: 'fraud/',
  secret: 'kms:c2VhbGVk',
  createdAt: '2026-11-22T08:00:00.000Z',
  createdBy: 'admin',
});

const versionItem = (status: string) => ({
  asset: 'fraud/xgb',
  vkey: 'k1',
  version: '1.0.0',
  status,
  files: [{ path: 'm.pkl', size: 1, sha256: 'b'.repeat(64), format: 'pkl' }],
  createdBy: 'alice',
  updatedAt: '2026-11-22T09:00:00.000Z',
});

function streamRecord(seq: string, keys: object, old?: object, next?: object): DynamoDBRecord {
  return {
    eventID: `id-${seq}`,
    eventName: old && next ? 'MODIFY' : next ? 'INSERT' : 'REMOVE',
    dynamodb: {
      Keys: marshall(keys) as never,
      ...(old ? { OldImage: marshall(old) as never } : {}),
      ...(next ? { NewImage: marshall(next) as never } : {}),
      SequenceNumber: seq,
      ApproximateCreationDateTime: 1_795_338_000,
    },
  };
}

const batch: DynamoDBStreamEvent = {
  Records: [
    streamRecord('100', { asset: 'fraud/xgb', vkey: 'k1' }, versionItem('pending'), versionItem('ready')),
    streamRecord('101', { asset: 'churn/lr', alias: 'prod' }, undefined, { asset: 'churn/lr', alias: 'prod', version: '2.0.0', updatedBy: 'bob', updatedAt: '2026-11-22T09:01:00.000Z' }),
    streamRecord('102', { name: 'fraud/xgb' }, { name: 'fraud/xgb', liveCount: 1 }, { name: 'fraud/xgb', liveCount: 2 }),
  ],
};

describe('stream consumer (functions/events/stream.ts)', () => {
  it('puts each derived event on the bus and enqueues one delivery per matching hook', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'x' }] });
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    ddb.on(ScanCommand).resolves({ Items: [hookItem('https://hooks.example.com/')] });

    expect(await streamHandler(batch)).toEqual({ batchItemFailures: [] });

    const puts = eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries);
    expect(puts).toHaveLength(2);
    expect(puts[0]).toEqual([
      { EventBusName: 'arca-bus', Source: 'arca', DetailType: 'Asset Version Created', Detail: expect.any(String), Time: new Date('2026-11-22T09:00:00.000Z') },
    ]);
    expect(puts[1]?.[0]).toMatchObject({ DetailType: 'Alias Updated' });
    const detail = JSON.parse(puts[0]?.[0]?.Detail ?? '{}') as Record<string, unknown>;
    expect(detail).toMatchObject({ asset: 'fraud/xgb', version: '1.0.0', status: 'ready', actor: 'alice' });

    // Only the fraud/ version event matches the hook (Alias Updated of churn/ does not); hooks read once per batch.
    const sends = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(sends).toHaveLength(1);
    expect(sends[0]?.QueueUrl).toBe(process.env[ENV.deliveryQueueUrl]);
    expect(JSON.parse(sends[0]?.Entries?.[0]?.MessageBody ?? '{}')).toEqual({
      hookId: 'a'.repeat(32),
      event: { detailType: 'Asset Version Created', detail },
    });
    expect(ddb.commandCalls(ScanCommand)).toHaveLength(1);
  });

  it('gives the same eventIds when the stream delivers the batch again', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    ddb.on(ScanCommand).resolves({ Items: [] });
    await streamHandler(batch);
    await streamHandler(structuredClone(batch));
    const ids = eventBridge.commandCalls(PutEventsCommand).map((c) => (JSON.parse(c.args[0].input.Entries?.[0]?.Detail ?? '{}') as { eventId: string }).eventId);
    expect(ids).toHaveLength(4);
    expect(ids.slice(2)).toEqual(ids.slice(0, 2));
    expect(new Set(ids).size).toBe(2);
  });

  it('reports the failing record and every later one, so none overtakes it', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 0 })
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] });
    ddb.on(ScanCommand).resolves({ Items: [] });
    expect(await streamHandler(batch)).toEqual({ batchItemFailures: [{ itemIdentifier: '101' }, { itemIdentifier: '102' }] });
  });
});

describe('delivery worker (functions/events/worker.ts)', () => {
  const hits: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  let answer = 200;
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      hits.push({ headers: req.headers, body });
      res.statusCode = answer;
      res.end();
    });
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => receiver.close());

  const job = {
    hookId: 'a'.repeat(32),
    event: {
      detailType: 'Asset Version Created',
      detail: { eventId: 'c'.repeat(64), asset: 'fraud/xgb', version: '1.0.0', status: 'ready', files: [], actor: 'alice', at: '2026-11-22T09:00:00.000Z' },
    },
  };
  const sqsEvent = (receiveCount: number): SQSEvent => ({
    Records: [
      {
        messageId: 'm1',
        receiptHandle: 'r1',
        body: JSON.stringify(job),
        attributes: { ApproximateReceiveCount: String(receiveCount) } as SQSEvent['Records'][number]['attributes'],
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:deliveries',
        awsRegion: 'eu-west-1',
      },
    ],
  });
  const stored = () => ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item);

  function arrange(status: number): void {
    answer = status;
    hits.length = 0;
    ddb.on(GetCommand).resolves({ Item: hookItem(url) });
    ddb.on(PutCommand).resolves({});
    kms.on(DecryptCommand).resolves({ Plaintext: Buffer.from(SECRET) });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
  }

  it('POSTs the signed event, records the attempt, and acknowledges the message', async () => {
    arrange(200);
    expect(await workerHandler(sqsEvent(1))).toEqual({ batchItemFailures: [] });
    expect(hits).toHaveLength(1);
    expect(verifyWebhook(SECRET, hits[0]?.headers ?? {}, hits[0]?.body ?? '')).toBe(true);
    expect(kms.commandCalls(DecryptCommand)[0]?.args[0].input).toMatchObject({
      KeyId: process.env[ENV.hookKeyId],
      EncryptionContext: { hookId: 'a'.repeat(32) },
    });
    expect(stored()).toEqual([expect.objectContaining({ hookId: 'a'.repeat(32), attempt: 1, statusCode: 200, ok: true, final: true })]);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
  });

  it('keeps a failed delivery hidden for the next delay of the schedule', async () => {
    arrange(503);
    expect(await workerHandler(sqsEvent(3))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input).toEqual({
      QueueUrl: process.env[ENV.deliveryQueueUrl],
      ReceiptHandle: 'r1',
      VisibilityTimeout: 120,
    });
    expect(stored()).toEqual([expect.objectContaining({ attempt: 3, statusCode: 503, ok: false, final: false })]);
  });

  it('after the last attempt, makes the message visible at once so the redrive policy dead-letters it', async () => {
    arrange(500);
    const last = maxAttempts(DEFAULT_RETRY);
    expect(await workerHandler(sqsEvent(last))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input.VisibilityTimeout).toBe(0);
    expect(stored()).toEqual([expect.objectContaining({ attempt: last, ok: false, final: true })]);
  });

  it('drops the job when its hook was deleted meanwhile', async () => {
    arrange(200);
    ddb.on(GetCommand).resolves({});
    expect(await workerHandler(sqsEvent(1))).toEqual({ batchItemFailures: [] });
    expect(hits).toHaveLength(0);
    expect(stored()).toEqual([]);
  });
});
