/**
 * Lambda entry: webhook deliveries from SQS. A failed attempt stays on the queue, hidden for the next
 * delay of the retry schedule (retry.ts); after the last attempt the queue's redrive policy
 * (maxReceiveCount = maxAttempts) moves it to the dead-letter queue.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import * as z from '../../contract/zod.ts';
import { ArcaEventSchema } from '../../contract/events.ts';
import { ENV } from '../../contract/env.ts';
import { logger } from '../shared/logger.ts';
import { deliveryPorts } from '../hooks/deliveryPorts.ts';
import { hooksEnv } from '../hooks/runtime.ts';
import { required } from '../shared/vars.ts';
import { deliverJob } from './deliver.ts';
import { delayAfter } from '../../contract/retry.ts';
import type { DeliveryJob } from './outbox.ts';

const queueUrl = required(ENV.deliveryQueueUrl);
const sqs = new SQSClient({});
const ports = deliveryPorts();
const metrics = new Metrics({ namespace: 'Arca', serviceName: 'arca' });

const Job = z.object({ hookId: z.string(), event: ArcaEventSchema });

async function handle(message: SQSRecord): Promise<boolean> {
  const job: DeliveryJob = Job.parse(JSON.parse(message.body));
  const attempt = Number(message.attributes.ApproximateReceiveCount);
  const record = await deliverJob(job, attempt, ports);
  if (record) {
    logger.info('webhook delivery', { ...record });
    metrics.addMetric(record.ok ? 'WebhookDelivered' : record.final ? 'WebhookDeadLettered' : 'WebhookRetried', MetricUnit.Count, 1);
  }
  if (!record || record.ok) return true;
  // No delay left: visible at once, so the next receive exceeds maxReceiveCount and dead-letters it.
  const delay = delayAfter(hooksEnv.retry, attempt) ?? 0;
  await sqs.send(
    new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message.receiptHandle, VisibilityTimeout: Math.ceil(delay) }),
  );
  return false;
}

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const results = await Promise.all(
    event.Records.map((m) =>
      handle(m).catch((error: unknown) => {
        logger.error('webhook delivery failed', { error, messageId: m.messageId });
        return false;
      }),
    ),
  );
  metrics.publishStoredMetrics();
  return { batchItemFailures: event.Records.filter((_, i) => !results[i]).map((m) => ({ itemIdentifier: m.messageId })) };
};
