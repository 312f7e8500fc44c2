/** The outbox's AWS ports: EventBridge PutEvents and the SQS delivery queue. */
import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { EVENT_SOURCE } from '../../contract/eventNames.ts';
import type { ArcaEvent } from '../../contract/events.ts';
import type { DeliveryJob } from './outbox.ts';

/** PutEvents takes at most 10 entries; SendMessageBatch too. */
const chunks = <T>(items: T[], size = 10): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

const busEntry = (event: ArcaEvent, busName: string): PutEventsRequestEntry => ({
  EventBusName: busName,
  Source: EVENT_SOURCE,
  DetailType: event.detailType,
  Detail: JSON.stringify(event.detail),
  Time: new Date(event.detail.at),
});

/** Puts the events on the bus; throws when any entry failed, so the stream record is retried. */
export async function putEvents(client: EventBridgeClient, busName: string, events: ArcaEvent[]): Promise<void> {
  for (const batch of chunks(events)) {
    const out = await client.send(new PutEventsCommand({ Entries: batch.map((e) => busEntry(e, busName)) }));
    if (out.FailedEntryCount) {
      const first = out.Entries?.find((e) => e.ErrorCode);
      throw new Error(`EventBridge refused ${out.FailedEntryCount} event(s): ${first?.ErrorCode} ${first?.ErrorMessage}`);
    }
  }
}

export async function enqueueDeliveries(client: SQSClient, queueUrl: string, jobs: DeliveryJob[]): Promise<void> {
  for (const batch of chunks(jobs)) {
    const out = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((job, i) => ({ Id: String(i), MessageBody: JSON.stringify(job) })),
      }),
    );
    if (out.Failed?.length) throw new Error(`SQS refused ${out.Failed.length} delivery job(s): ${out.Failed[0]?.Code} ${out.Failed[0]?.Message}`);
  }
}
