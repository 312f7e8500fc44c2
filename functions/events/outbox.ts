/**
 * The outbox pipeline shared by AWS and local mode: stream record → events → publish (EventBridge bus, or
 * the local log) → one delivery job per matching webhook. Ports keep it free of any SDK, so the Lambda
 * stream consumer and local mode's poller run exactly this code.
 */
import type { ArcaEvent, DetailType } from '../../contract/events.ts';
import { deriveEvents, recordedEdges, type StreamRecordLike } from './derive.ts';

/** What fan-out needs to know of a hook (never its secret). */
export interface HookTarget {
  id: string;
  events: DetailType[];
  assetPrefix?: string;
}

export interface DeliveryJob {
  hookId: string;
  event: ArcaEvent;
}

export interface OutboxPorts {
  publish(events: ArcaEvent[]): Promise<void>;
  listHooks(): Promise<HookTarget[]>;
  enqueue(jobs: DeliveryJob[]): Promise<void>;
  /** Idempotent puts of lineage edges (`downstream` records each of `upstreams`). */
  writeEdges(downstream: string, upstreams: string[]): Promise<void>;
}

/** What the logs say of an event: everything but the file list, which is counted instead. */
export function eventLogFields(event: ArcaEvent): Record<string, unknown> {
  const { files, ...detail } = event.detail;
  return { detailType: event.detailType, ...detail, ...(files ? { files: files.length } : {}) };
}

export const hookWants = (hook: HookTarget, event: ArcaEvent): boolean =>
  hook.events.includes(event.detailType) && event.detail.asset.startsWith(hook.assetPrefix ?? '');

/** Jobs for every (hook, event) pair the hook subscribes to. */
export const deliveryJobs = (hooks: HookTarget[], events: ArcaEvent[]): DeliveryJob[] =>
  events.flatMap((event) => hooks.filter((h) => hookWants(h, event)).map((h) => ({ hookId: h.id, event })));

/**
 * Handles one record: a new version's lineage edges, then its events. Throws when a write fails, so the caller retries the record (its
 * events then carry the same ids: consumers deduplicate on `eventId`).
 */
export async function processRecord(record: StreamRecordLike, ports: OutboxPorts): Promise<ArcaEvent[]> {
  // The create wrote these edges already unless it stopped right after its transaction; puts are idempotent.
  const edges = recordedEdges(record);
  if (edges) await ports.writeEdges(edges.downstream, edges.upstreams);
  const events = deriveEvents(record);
  if (events.length === 0) return events;
  await ports.publish(events);
  const jobs = deliveryJobs(await ports.listHooks(), events);
  if (jobs.length > 0) await ports.enqueue(jobs);
  return events;
}
