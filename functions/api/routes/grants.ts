/** Grant routes (docs/grants.md): thin adapters from HTTP to functions/domain/grants.ts. Admins of every asset name only. */
import { DeleteGrantQuery, GrantRequest, ListGrantsQuery } from '../../../contract/readSchemas.ts';
import { grantsPage, revokeGrant, setGrant } from '../../domain/grants.ts';
import type { Actor } from '../../domain/model.ts';
import { authorizeRegistryAdmin } from '../../shared/auth.ts';
import { actorOf } from './actor.ts';
import { principalOf, parse, type ApiRequest, type RouteHandler } from '../../shared/http.ts';

/** A prefix's admin could grant itself any other name: managing grants needs admin on every name. */
const registryAdmin = (req: ApiRequest): Actor => ({ ...actorOf(req, ''), principal: authorizeRegistryAdmin(principalOf(req)) });

export const listGrantsRoute: RouteHandler = async (req) => {
  registryAdmin(req);
  const { limit, cursor, principal, prefix } = parse(ListGrantsQuery, req.query);
  return { status: 200, body: await grantsPage({ principal, prefix }, limit, cursor) };
};

export const putGrantRoute: RouteHandler = async (req) => {
  const actor = registryAdmin(req);
  return { status: 200, body: await setGrant(parse(GrantRequest, req.body), actor) };
};

export const deleteGrantRoute: RouteHandler = async (req) => {
  const actor = registryAdmin(req);
  const { principal, prefix } = parse(DeleteGrantQuery, req.query);
  await revokeGrant(principal, prefix, actor);
  return { status: 204 };
};
