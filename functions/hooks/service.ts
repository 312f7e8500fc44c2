/**
 * The webhooks domain (R-EVENT): register and delete a hook (listing: reads.ts). Knows nothing of HTTP; the
 * URL guard, the secret box and the store come in as dependencies.
 */
import { randomBytes } from 'node:crypto';
import { CreateHookRequest, HOOK_ID_RE, type HookRecord } from '../../contract/events.ts';
import { assertWebhookUrl, systemResolver, type Resolver, type UrlPolicy } from '../events/ssrf.ts';
import type { AuditPut } from '../adapters/auditRepo.ts';
import { noHook } from './reads.ts';
import type { SecretBox } from './secrets.ts';
import { hookRecord, type HookStore } from './store.ts';

/** The audit entry of a hook change, bound by the route to the acting principal and request. */
export type HookAudit = (action: 'hook.create' | 'hook.delete', hook: string) => AuditPut;

export interface HookDeps {
  store: HookStore;
  audit: HookAudit;
  box: SecretBox;
  policy: UrlPolicy;
  resolve?: Resolver;
  now?: () => Date;
}

/** `whsec_` + 32 random bytes, base64url: as strong as the HMAC key it becomes. */
export const generateSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

/** Registers a hook; the response is the only one that carries the secret. */
export async function createHook(request: CreateHookRequest, actor: string, deps: HookDeps): Promise<HookRecord> {
  const url = await assertWebhookUrl(request.url, deps.policy, deps.resolve ?? systemResolver);
  const id = randomBytes(16).toString('hex');
  const secret = request.secret ?? generateSecret();
  const item = {
    id,
    url,
    events: request.events,
    ...(request.assetPrefix ? { assetPrefix: request.assetPrefix } : {}),
    secret: await deps.box.seal(id, secret),
    createdAt: (deps.now?.() ?? new Date()).toISOString(),
    createdBy: actor,
  };
  await deps.store.put(item, deps.audit('hook.create', id));
  return { ...hookRecord(item), secret };
}

export async function deleteHook(store: HookStore, id: string, audit: HookAudit): Promise<void> {
  if (!HOOK_ID_RE.test(id) || !(await store.delete(id, audit('hook.delete', id)))) throw noHook(id);
}
