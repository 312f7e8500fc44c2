/**
 * Grants managed at run time (docs/grants.md): list, upsert, revoke, and the grants authorization uses —
 * the deploy-time ones from the environment merged with the table's, cached for ARCA_GRANTS_CACHE_SECONDS.
 */
import type { GrantRequest, Page } from '../../contract/schemas.ts';
import { auditPut } from '../adapters/auditRepo.ts';
import { allGrants, deleteGrant, listGrants, putGrant, type GrantFilter, type GrantItem } from '../adapters/grantsRepo.ts';
import { env, type Grant } from '../shared/env.ts';
import { notFound } from '../shared/errors.ts';
import { timedCache } from './grantCache.ts';
import { nowIso, type Actor } from './model.ts';

const tableGrants = timedCache(allGrants, env.grantsCacheMs);

/** Deploy-time grants first, then the table's; a principal holds the highest role any of them gives. */
export async function effectiveGrants(): Promise<Grant[]> {
  const stored = await tableGrants.get();
  return [...env.grants, ...stored.map(({ principal, prefix, role }) => ({ principal, prefix, role }))];
}

export const grantsPage = (filter: GrantFilter, limit: number, cursor?: string): Promise<Page<GrantItem>> => listGrants(filter, limit, cursor);

export async function setGrant(request: GrantRequest, actor: Actor): Promise<GrantItem> {
  const item: GrantItem = { ...request, grantedBy: actor.principal, grantedAt: nowIso() };
  const { principal, prefix, role } = request;
  await putGrant(item, auditPut({ action: 'grant.put', actor: actor.principal, requestId: actor.requestId, grantee: principal, prefix, role, at: item.grantedAt }));
  tableGrants.invalidate();
  return item;
}

export async function revokeGrant(principal: string, prefix: string, actor: Actor): Promise<void> {
  const existed = await deleteGrant(principal, prefix, auditPut({ action: 'grant.delete', actor: actor.principal, requestId: actor.requestId, grantee: principal, prefix }));
  tableGrants.invalidate();
  if (!existed) throw notFound(`no grant to ${principal} on prefix "${prefix}" in the grants table (deploy-time grants are changed by redeploying)`, { principal, prefix });
}
