/**
 * The event catalogue (R-EVENT) and the webhook API's schemas. One zod schema per detail type:
 * the service builds details that satisfy them, `docs/events/*.schema.json` is generated from them, and
 * the SDK types events with them. Free of AWS and Node imports so the console can use it too.
 */
import { DETAIL_TYPES, DetailTypeSchema, EVENT_SOURCE, type DetailType } from './eventNames.ts';
import * as z from './zod.ts';

export * from './eventNames.ts';

const EventFile = z.strictObject({
  path: z.string(),
  size: z.int().check(z.gte(0)),
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  format: z.string(),
});
export type EventFile = z.infer<typeof EventFile>;

const files = z
  .optional(z.array(EventFile))
  .check(z.describe("The version's files; omitted when the list would push the event past EventBridge's 256 KB (fetch the version instead)"));

const base = {
  eventId: z.string().check(z.regex(/^[0-9a-f]{64}$/), z.describe('Stable across redeliveries: deduplicate on it')),
  asset: z.string().check(z.describe('The asset name')),
  actor: z.string().check(z.describe('The principal that made the change, or `system` for the service itself')),
  at: z.iso.datetime().check(z.describe('When the change was committed')),
};

/** The `detail` of each detail type. */
export const DETAIL_SCHEMAS = {
  'Asset Created': z.strictObject({ ...base }),
  'Asset Version Created': z.strictObject({
    ...base,
    version: z.string(),
    status: z.literal('ready'),
    files,
  }),
  'Asset Version Published': z.strictObject({
    ...base,
    version: z.string(),
    status: z.literal('published'),
    files,
  }),
  'Asset Version Deleted': z.strictObject({ ...base, version: z.string(), status: z.literal('deleted') }),
  'Alias Updated': z.strictObject({
    ...base,
    alias: z.string(),
    version: z.optional(z.string()).check(z.describe('Where the alias now points; absent when the alias was deleted')),
  }),
  'Asset Deleted': z.strictObject({ ...base, reason: z.optional(z.string()).check(z.describe('The reason the admin gave for deleting the asset')) }),
  'Output Promoted': z.strictObject({
    ...base,
    version: z.string().check(z.describe('The version the run output became')),
    flow: z.string(),
    run: z.string(),
    output: z.string().check(z.describe('The promoted output of that run')),
  }),
} as const satisfies Record<DetailType, z.ZodMiniType>;

/** File name of a detail type's JSON Schema under docs/events/: `Asset Version Created` → `asset-version-created`. */
export const detailSlug = (type: DetailType): string => type.toLowerCase().replace(/ /g, '-');

/** The JSON Schema (draft 2020-12) of a detail type's `detail`, as published in docs/events/. */
export function detailJsonSchema(type: DetailType): Record<string, unknown> {
  return {
    $id: `urn:arca:event-detail:${detailSlug(type)}`,
    title: `${type} (source ${EVENT_SOURCE})`,
    description: `The \`detail\` of an Arca \`${type}\` event (R-EVENT), on the EventBridge bus and in webhook payloads.`,
    ...z.toJSONSchema(DETAIL_SCHEMAS[type]),
  };
}

export interface EventDetail {
  eventId: string;
  asset: string;
  version?: string;
  alias?: string;
  status?: 'ready' | 'published' | 'deleted';
  files?: EventFile[];
  actor: string;
  at: string;
  /** `Asset Deleted`: the reason the admin gave. */
  reason?: string;
  /** `Output Promoted`: the run output the version came from. */
  flow?: string;
  run?: string;
  output?: string;
}

/** One event: what goes to the bus as `detail-type` + `detail`. */
export interface ArcaEvent {
  detailType: DetailType;
  detail: EventDetail;
}

/** Parses an event that crossed a process boundary (a queued delivery job). */
export const ArcaEventSchema = z.union(
  DETAIL_TYPES.map((t) => z.strictObject({ detailType: z.literal(t), detail: DETAIL_SCHEMAS[t] })),
);

/** The JSON body a webhook receives: the EventBridge envelope, with `id` = `detail.eventId`. */
export interface WebhookPayload {
  id: string;
  source: typeof EVENT_SOURCE;
  'detail-type': DetailType;
  time: string;
  detail: EventDetail;
}

export const webhookPayload = (event: ArcaEvent): WebhookPayload => ({
  id: event.detail.eventId,
  source: EVENT_SOURCE,
  'detail-type': event.detailType,
  time: event.detail.at,
  detail: event.detail,
});

// ---- webhooks API (`/v1/hooks`) ----

export const CreateHookRequest = z.strictObject({
  url: z.string().check(z.minLength(1), z.maxLength(2048)),
  events: z.array(DetailTypeSchema).check(
    z.minLength(1),
    z.refine((e) => new Set(e).size === e.length, 'events must be distinct'),
  ),
  /** Only events of assets whose name starts with this prefix are delivered. */
  assetPrefix: z.optional(
    z.string().check(z.maxLength(256), z.regex(/^[a-z0-9._/-]*$/, 'an asset prefix holds only the characters of asset names')),
  ),
  /** The signing secret; generated when absent. Returned only by this call. */
  secret: z.optional(z.string().check(z.minLength(16), z.maxLength(256))),
});
export type CreateHookRequest = z.infer<typeof CreateHookRequest>;

export interface HookRecord {
  id: string;
  url: string;
  events: DetailType[];
  assetPrefix?: string;
  createdAt: string;
  createdBy: string;
  /** Present only in the response that created the hook. */
  secret?: string;
}

export interface DeliveryRecord {
  hookId: string;
  eventId: string;
  detailType: DetailType;
  /** 1 for the first try. */
  attempt: number;
  /** The receiver's HTTP status; absent when no response came (refused address, timeout, network). */
  statusCode?: number;
  error?: string;
  ok: boolean;
  /** No further attempt follows: delivered, or given up (dead-lettered). */
  final: boolean;
  at: string;
  durationMs: number;
}
