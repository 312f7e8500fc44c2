/**
 * Verifies a webhook delivery from Arca (R-EVENT). Use it on the raw request body, before parsing:
 *
 *   if (!verifyWebhook(secret, req.headers, rawBody)) return reply(401);
 *   const event = JSON.parse(rawBody) as WebhookPayload;   // deduplicate on event.id
 */
import { timingSafeEqual } from 'node:crypto';
import { SIGNATURE_HEADER, signatureHex } from '../contract/webhooks.ts';

export type { WebhookPayload } from '../contract/events.ts';

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof Headers !== 'undefined' && headers instanceof Headers) return headers.get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * True when `arca-signature` holds a `v1` HMAC of `t + "." + body` under `secret` and `t` is within
 * `toleranceSeconds` of now (replay protection). Several `v1` entries are accepted (secret rotation).
 */
export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  body: string | Uint8Array,
  toleranceSeconds = 300,
  now: Date = new Date(),
): boolean {
  const header = headerValue(headers, SIGNATURE_HEADER);
  if (!header) return false;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [k, v] = part.trim().split('=', 2);
    if (k === 't' && v && /^\d+$/.test(v)) timestamp = Number(v);
    else if (k === 'v1' && v && /^[0-9a-f]{64}$/.test(v)) signatures.push(v);
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  if (Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds) return false;
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  const expected = Buffer.from(signatureHex(secret, timestamp, text), 'hex');
  return signatures.some((s) => timingSafeEqual(Buffer.from(s, 'hex'), expected));
}
