/**
 * Grants managed at run time (docs/grants.md): list, upsert, revoke, and the grants authorization uses —
 * the deploy-time ones from the environment merged with the table's, cached for ARCA_GRANTS_CACHE_SECONDS.
 */
import type { GrantRequest, Page } from '../../contract/schemas.ts';
import { allGrants, deleteGrant, listGrants, putGrant, type GrantFilter, type GrantItem } from '../adapters/grantsRepo.ts';
import { env, type Grant } from '../shared/env.ts';
import { notFound } from '../shared/errors.ts';
import { timedCache } from './grantCache.ts';
import { nowIso } from './model.ts';

const tableGrants = timedCache(allGrants, env.grantsCacheMs);

/** Deploy-time grants first, then the table's; a principal holds the highest role any of them gives. */
export async function effectiveGrants(): Promise<Grant[]> {
  const stored = await tableGrants.get();
  return [...env.grants, ...stored.map(({ principal, prefix, role }) => ({ principal, prefix, role }))];
}

export const grantsPage = (filter: GrantFilter, limit: number, cursor?: string): Promise<Page<GrantItem>> => listGrants(filter, limit, cursor);

export async function setGrant(request: GrantRequest, actor: string): Promise<GrantItem> {
  const item: GrantItem = { ...request, grantedBy: actor, grantedAt: nowIso() };
  await putGrant(item);
  tableGrants.invalidate();
  return item;
}

export async function revokeGrant(principal: string, prefix: string): Promise<void> {
  const existed = await deleteGrant(principal, prefix);
  tableGrants.invalidate();
  if (!existed) throw notFound(`no grant to ${principal} on prefix "${prefix}" in the grants table (deploy-time grants are changed by redeploying)`, { principal, prefix });
}
