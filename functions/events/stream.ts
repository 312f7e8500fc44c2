/**
 * Lambda entry: the DynamoDB stream consumer of the assets, versions and aliases tables (the outbox). A new
 * version's lineage edges are written (again) to the lineage table; each record's events go to the bus and, for each matching webhook, a delivery job to SQS. A failing record is
 * reported with the records after it, so the stream retries from there and no later record overtakes it.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ENV } from '../../contract/env.ts';
import { logger } from '../shared/logger.ts';
import { hookStore, hooksEnv } from '../hooks/runtime.ts';
import { dynamoClients } from '../adapters/dynamoBase.ts';
import { writeEdges } from '../adapters/lineageEdges.ts';
import { required } from '../shared/vars.ts';
import { enqueueDeliveries, putEvents } from './aws.ts';
import { eventLogFields, processRecord, type HookTarget, type OutboxPorts } from './outbox.ts';

const busName = required(ENV.eventBus);
const queueUrl = required(ENV.deliveryQueueUrl);
const lineageTable = required(ENV.lineageTable);
const { doc } = dynamoClients(hooksEnv.dynamoEndpoint);
const eventBridge = new EventBridgeClient({});
const sqs = new SQSClient({});
const metrics = new Metrics({ namespace: 'Arca', serviceName: 'arca' });

export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  let hooks: Promise<HookTarget[]> | undefined;
  const ports: OutboxPorts = {
    publish: (events) => putEvents(eventBridge, busName, events),
    // One read of the hooks per batch.
    listHooks: () => (hooks ??= hookStore.all()),
    enqueue: (jobs) => enqueueDeliveries(sqs, queueUrl, jobs),
    writeEdges: (downstream, upstreams) => writeEdges(doc, lineageTable, downstream, upstreams),
  };
  let published = 0;
  try {
    for (const [i, record] of event.Records.entries()) {
      try {
        const events = await processRecord(record, ports);
        published += events.length;
        for (const e of events) logger.info('event', eventLogFields(e));
      } catch (error) {
        logger.error('stream record failed; the stream retries it', { error, eventID: record.eventID });
        metrics.addMetric('StreamRecordsFailed', MetricUnit.Count, 1);
        return {
          batchItemFailures: event.Records.slice(i).map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' })),
        };
      }
    }
    return { batchItemFailures: [] };
  } finally {
    metrics.addMetric('EventsPublished', MetricUnit.Count, published);
    metrics.publishStoredMetrics();
  }
};
