/** Listing hooks and their delivery attempts (R-EVENT): the read function's share of the hooks domain, without the URL guard. */
import { HOOK_ID_RE } from '../../contract/eventNames.ts';
import type { DeliveryRecord, HookRecord } from '../../contract/events.ts';
import type { Page } from '../../contract/schemas.ts';
import { notFound } from '../shared/errors.ts';
import { hookRecord, type HookStore } from './store.ts';

export async function listHooks(store: HookStore, limit: number, cursor?: string): Promise<Page<HookRecord>> {
  const page = await store.list(limit, cursor);
  return { items: page.items.map(hookRecord), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}

export const noHook = (id: string) => notFound(`no hook ${id}`, { hook: id });

export async function listDeliveries(store: HookStore, id: string, limit: number, cursor?: string): Promise<Page<DeliveryRecord>> {
  if (!HOOK_ID_RE.test(id) || !(await store.get(id))) throw noHook(id);
  const page = await store.deliveries(id, limit, cursor);
  return { items: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}
