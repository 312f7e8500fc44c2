/**
 * The names of the event catalogue (R-EVENT) and of the webhooks API, without the detail schemas of
 * contract/events.ts (which re-exports these): what the functions that only name events or hooks import, so
 * their bundles neither carry nor build at a cold start the schemas only the delivery worker parses with.
 */
import * as z from './zod.ts';

export const EVENT_SOURCE = 'arca';

/** The actor of a change the service makes itself (an eviction, an expiry, a commit by the upload job) or that no principal is recorded for. */
export const SYSTEM_ACTOR = 'system';

export const DETAIL_TYPES = [
  'Asset Created',
  'Asset Version Created',
  'Asset Version Published',
  'Asset Version Deleted',
  'Alias Updated',
  'Asset Deleted',
  'Output Promoted',
] as const;
export type DetailType = (typeof DETAIL_TYPES)[number];
export const DetailTypeSchema = z.enum(DETAIL_TYPES);

export const HOOK_ID_RE = /^[0-9a-f]{32}$/;
