/**
 * Local mode's outbox: reads DynamoDB Local's streams of the tables marked `stream` in contract/tables.ts,
 * feeds each record to the same pipeline as the Lambda stream consumer (functions/events/outbox.ts),
 * prints every event in the server log, and delivers webhooks in-process with the same attempt code and
 * retry schedule as the SQS worker — timers stand in for SQS visibility delays, the log for the DLQ.
 *
 * Events are emitted from committed item changes only, as in AWS: a request handler never emits one.
 * The last sequence number handled per shard is kept in `checkpointFile`, so a restart resumes where it
 * stopped (records handled but not checkpointed are handled again: same eventIds).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { TABLES, type TableName, type TableSchema } from '../contract/tables.ts';
import type { ArcaEvent } from '../contract/events.ts';
import { eventLogFields, processRecord, type DeliveryJob, type OutboxPorts } from '../functions/events/outbox.ts';
import { deliverJob } from '../functions/events/deliver.ts';
import { delayAfter } from '../contract/retry.ts';
import { deliveryPorts } from '../functions/hooks/deliveryPorts.ts';
import { hookStore } from '../functions/hooks/runtime.ts';
import { paginate } from '../functions/adapters/dynamoBase.ts';
import { writeEdges } from '../functions/adapters/lineageEdges.ts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import * as z from '../contract/zod.ts';

export interface LocalEventsOptions {
  dynamo: DynamoDBClient;
  /** DynamoDB Local's endpoint, which also serves the Streams API. */
  endpoint: string;
  /** Physical table names, by contract name. */
  tables: Record<TableName, string>;
  checkpointFile: string;
  /** How often shards are polled. @default 200 */
  pollMs?: number;
  /** Attempts at one stream record before it is set aside, as the Lambda's 20 retries in AWS. @default 21 */
  recordAttempts?: number;
}

export interface LocalEvents {
  stop(): Promise<void>;
}

interface Shard {
  streamArn: string;
  shardId: string;
  parentId?: string;
  iterator?: string;
  closed: boolean;
  /** Consecutive failures of the record at the head of the shard, and when to try it again. */
  failures: number;
  retryAt: number;
}

/** Last sequence number handled, by `streamArn|shardId`. */
const Checkpoints = z.record(z.string(), z.string());
type Checkpoints = z.infer<typeof Checkpoints>;

/** Longest wait between two attempts at a failing stream record. */
const MAX_RECORD_BACKOFF_MS = 30_000;

const RENEW_ITERATOR = new Set(['TrimmedDataAccessException', 'ExpiredIteratorException']);

/** Its own logger: the shared one carries the keys of whichever request the handlers served last. */
const logger = new Logger({ serviceName: 'arca', persistentKeys: { component: 'events' } });

const shardKey = (s: Pick<Shard, 'streamArn' | 'shardId'>) => `${s.streamArn}|${s.shardId}`;

/**
 * The checkpoints saved in `file`; none when it is missing or unreadable (a crash mid-write, a hand edit):
 * the streams are then read from their start again, and the replayed events keep their eventIds.
 */
export async function loadCheckpoints(file: string): Promise<Checkpoints> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const parsed = Checkpoints.safeParse(raw);
  if (parsed.success) return parsed.data;
  logger.warn('stream checkpoint file is not usable; reading the streams from their start', { file });
  return {};
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** In-process webhook deliveries: attempt now, retry on the schedule of retry.ts, give up after the last. */
class Deliveries {
  private readonly ports = deliveryPorts();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  schedule(job: DeliveryJob, attempt: number, delaySeconds: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const run = this.attempt(job, attempt).finally(() => this.running.delete(run));
      this.running.add(run);
    }, delaySeconds * 1000);
    this.timers.add(timer);
  }

  private async attempt(job: DeliveryJob, attempt: number): Promise<void> {
    try {
      const record = await deliverJob(job, attempt, this.ports);
      if (!record || record.ok) {
        if (record) logger.info('webhook delivered', { ...record });
        return;
      }
      const delay = delayAfter(this.ports.retry, attempt);
      if (delay === undefined) logger.error('webhook delivery dead-lettered: no attempt left', { ...record });
      else {
        logger.warn('webhook delivery failed; retrying', { ...record, retryInSeconds: delay });
        this.schedule(job, attempt + 1, delay);
      }
    } catch (error) {
      // The attempt could not even be made or recorded (the store is down): try again on the same schedule.
      const delay = delayAfter(this.ports.retry, attempt);
      logger.error('webhook delivery could not run', { error: error as Error, hookId: job.hookId, attempt });
      if (delay !== undefined) this.schedule(job, attempt + 1, delay);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }
}

export async function startEvents(opts: LocalEventsOptions): Promise<LocalEvents> {
  const streams = new DynamoDBStreamsClient({
    endpoint: opts.endpoint,
    region: await opts.dynamo.config.region(),
    credentials: opts.dynamo.config.credentials,
  });
  const pollMs = opts.pollMs ?? 200;
  const recordAttempts = opts.recordAttempts ?? 21;
  const checkpoints = await loadCheckpoints(opts.checkpointFile);
  const shards = new Map<string, Shard>();
  const deliveries = new Deliveries();
  const doc = DynamoDBDocumentClient.from(opts.dynamo);

  const streamArns: string[] = [];
  for (const [name, schema] of Object.entries(TABLES) as [TableName, TableSchema][]) {
    if (!schema.stream) continue;
    const { Table } = await opts.dynamo.send(new DescribeTableCommand({ TableName: opts.tables[name] }));
    if (!Table?.LatestStreamArn) throw new Error(`table ${opts.tables[name]} has no stream: it must be created with one (contract/tables.ts)`);
    streamArns.push(Table.LatestStreamArn);
  }

  const ports: OutboxPorts = {
    publish: async (events: ArcaEvent[]) => {
      for (const e of events) logger.info('event', eventLogFields(e));
    },
    listHooks: () => hookStore.all(),
    enqueue: async (jobs) => {
      for (const job of jobs) deliveries.schedule(job, 1, 0);
    },
    writeEdges: (downstream, upstreams) => writeEdges(doc, opts.tables.lineage, downstream, upstreams),
  };

  async function discover(): Promise<void> {
    for (const streamArn of streamArns) {
      const described = paginate(async (start: string | undefined) => {
        const out = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }));
        return { items: out.StreamDescription?.Shards, next: out.StreamDescription?.LastEvaluatedShardId };
      });
      for await (const s of described) {
        if (!s.ShardId) continue;
        const shard: Shard = { streamArn, shardId: s.ShardId, parentId: s.ParentShardId, closed: false, failures: 0, retryAt: 0 };
        if (!shards.has(shardKey(shard))) shards.set(shardKey(shard), shard);
      }
    }
  }

  async function iteratorFor(shard: Shard): Promise<string | undefined> {
    const after = checkpoints[shardKey(shard)];
    const out = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: shard.streamArn,
        ShardId: shard.shardId,
        ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after } : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return out.ShardIterator;
  }

  let dirty = false;
  async function saveCheckpoints(): Promise<void> {
    if (!dirty) return;
    dirty = false;
    const tmp = `${opts.checkpointFile}.tmp`;
    await writeFile(tmp, JSON.stringify(checkpoints));
    await rename(tmp, opts.checkpointFile);
  }

  /** Reads one batch of a shard; a record that fails stops the shard there, to be read again next poll. */
  async function poll(shard: Shard): Promise<void> {
    // A child shard waits for its parent, so one item's changes stay in order.
    const parent = shard.parentId ? shards.get(shardKey({ streamArn: shard.streamArn, shardId: shard.parentId })) : undefined;
    if ((parent && !parent.closed) || Date.now() < shard.retryAt) return;
    shard.iterator ??= await iteratorFor(shard);
    if (!shard.iterator) {
      shard.closed = true;
      return;
    }
    let out;
    try {
      out = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 100 }));
    } catch (error) {
      // DynamoDB Local sometimes refuses an iterator of a shard that was empty when it was handed out
      // (aws/aws-sdk-java#2923); a fresh one from the checkpoint reads the same records.
      if (!(error instanceof Error) || !RENEW_ITERATOR.has(error.name)) throw error;
      shard.iterator = undefined;
      return;
    }
    for (const record of (out.Records ?? []) as _Record[]) {
      try {
        for (const img of [record.dynamodb?.NewImage, record.dynamodb?.OldImage]) if (img) restoreEmptyMaps(img);
        await processRecord(record, ports);
        shard.failures = 0;
      } catch (error) {
        shard.failures += 1;
        if (shard.failures < recordAttempts) {
          logger.error('stream record failed; it is read again', { error: error as Error, eventID: record.eventID, attempt: shard.failures });
          shard.iterator = undefined;
          shard.retryAt = Date.now() + Math.min(pollMs * 2 ** (shard.failures - 1), MAX_RECORD_BACKOFF_MS);
          return;
        }
        // As the Lambda's event source mapping does after its retries: set it aside rather than block the shard.
        logger.error('stream record failed on every attempt: dead-lettered', { error: error as Error, record });
        shard.failures = 0;
      }
      const seq = record.dynamodb?.SequenceNumber;
      if (seq) {
        checkpoints[shardKey(shard)] = seq;
        dirty = true;
      }
    }
    shard.iterator = out.NextShardIterator;
    if (!shard.iterator) shard.closed = true;
  }

  let stopped = false;
  await discover();
  const loop = (async () => {
    for (let round = 0; !stopped; round++) {
      try {
        // New shards appear as DynamoDB rolls them over; look for them every few seconds.
        if (round % 25 === 24) await discover();
        for (const shard of shards.values()) if (!shard.closed && !stopped) await poll(shard);
        await saveCheckpoints();
      } catch (error) {
        if (stopped) break;
        logger.error('reading the table streams failed; retrying', { error: error as Error });
        for (const shard of shards.values()) shard.iterator = undefined;
      }
      await sleep(pollMs);
    }
  })();

  return {
    async stop() {
      stopped = true;
      await loop;
      await deliveries.stop();
      await saveCheckpoints();
      streams.destroy();
    },
  };
}

/**
 * The streams client reads DynamoDB Local's empty map (`{"M": {}}`, e.g. `params: {}`) back as `{}`, an attribute
 * value of no type that unmarshall refuses, which would stop the shard at that record: give it its type back.
 */
function restoreEmptyMaps(image: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(image)) image[key] = withType(value);
}

function withType(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const av = value as { M?: Record<string, unknown>; L?: unknown[] };
  if (Object.keys(av).length === 0) return { M: {} };
  if (av.M) restoreEmptyMaps(av.M);
  if (av.L) av.L = av.L.map(withType);
  return av;
}
