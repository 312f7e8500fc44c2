/**
 * One webhook delivery attempt: sign the event JSON, POST it through the SSRF-guarded lookup, and report
 * the outcome. Retrying is the caller's business (SQS visibility in AWS, timers in local mode), both
 * following `retry.ts`.
 */
import http from 'node:http';
import https from 'node:https';
import { webhookPayload, type DeliveryRecord } from '../../contract/events.ts';
import { SIGNATURE_HEADER, signatureHeaderValue } from '../../contract/webhooks.ts';
import type { DeliveryJob } from './outbox.ts';
import { maxAttempts, type RetryPolicy } from '../../contract/retry.ts';
import { guardedLookup, type Resolver, type UrlPolicy } from './ssrf.ts';

export interface PostResult {
  statusCode?: number;
  error?: string;
}

export type Poster = (url: string, body: string, headers: Record<string, string>) => Promise<PostResult>;

const TIMEOUT_MS = 10_000;

/** POSTs without following redirects (a redirect could point anywhere); a non-2xx answer is a failure. */
export function httpPoster(policy: UrlPolicy, resolve?: Resolver): Poster {
  const lookup = guardedLookup(policy, resolve);
  return (url, body, headers) =>
    new Promise((done) => {
      const target = new URL(url);
      const send = target.protocol === 'http:' ? http.request : https.request;
      const req = send(
        target,
        { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup, timeout: TIMEOUT_MS },
        (res) => {
          res.resume();
          res.on('end', () => done({ statusCode: res.statusCode }));
          res.on('error', (e) => done({ statusCode: res.statusCode, error: e.message }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
      req.on('error', (e) => done({ error: e.message }));
      req.end(body);
    });
}

export interface HookEndpoint {
  id: string;
  url: string;
  secret: string;
}

/**
 * Attempt number `attempt` of `job` to `hook`. `last` says whether a failure ends the retries, which the
 * record keeps as `final`.
 */
export async function attemptDelivery(
  hook: HookEndpoint,
  job: DeliveryJob,
  attempt: number,
  last: boolean,
  post: Poster,
  now: () => Date = () => new Date(),
): Promise<DeliveryRecord> {
  const body = JSON.stringify(webhookPayload(job.event));
  const started = now();
  const timestamp = Math.floor(started.getTime() / 1000);
  const result = await post(hook.url, body, {
    'content-type': 'application/json',
    'user-agent': 'arca-webhooks/1',
    [SIGNATURE_HEADER]: signatureHeaderValue(hook.secret, timestamp, body),
    'arca-event-id': job.event.detail.eventId,
    'arca-event-type': job.event.detailType,
    'arca-delivery-attempt': String(attempt),
  });
  const ok = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300;
  return {
    hookId: hook.id,
    eventId: job.event.detail.eventId,
    detailType: job.event.detailType,
    attempt,
    ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
    ...(ok ? {} : { error: result.error ?? `receiver answered ${result.statusCode}` }),
    ok,
    final: ok || last,
    at: started.toISOString(),
    durationMs: now().getTime() - started.getTime(),
  };
}

/** Where a delivery finds its hook (secret sealed) and records its attempts. */
export interface DeliveryPorts {
  /** The hook with its secret still sealed. */
  getHook(id: string): Promise<HookEndpoint | undefined>;
  openSecret(hookId: string, sealed: string): Promise<string>;
  recordDelivery(record: DeliveryRecord): Promise<void>;
  post: Poster;
  retry: RetryPolicy;
}

/**
 * Runs attempt `attempt` of a job and records it, the same way in the SQS worker and in local mode.
 * Returns `undefined` when the hook was deleted meanwhile (nothing to deliver, nothing to retry).
 */
export async function deliverJob(job: DeliveryJob, attempt: number, ports: DeliveryPorts): Promise<DeliveryRecord | undefined> {
  const hook = await ports.getHook(job.hookId);
  if (!hook) return undefined;
  const endpoint = { id: hook.id, url: hook.url, secret: await ports.openSecret(hook.id, hook.secret) };
  const record = await attemptDelivery(endpoint, job, attempt, attempt >= maxAttempts(ports.retry), ports.post);
  await ports.recordDelivery(record);
  return record;
}
