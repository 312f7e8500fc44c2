/** Webhook reads (R-EVENT): thin adapters from HTTP to functions/hooks/reads.ts (changes: hookWrites.ts). Admins of the whole registry only. */
import { ListQuery } from '../../../contract/readSchemas.ts';
import { listDeliveries, listHooks } from '../../hooks/reads.ts';
import { hookStore } from '../../hooks/runtime.ts';
import { authorizeRegistryAdmin } from '../../shared/auth.ts';
import { principalOf, parse, type ApiRequest, type RouteHandler } from '../../shared/http.ts';

/** A hook sees events of any asset its prefix matches, and the list shows every hook. */
export const registryAdmin = (req: ApiRequest): string => authorizeRegistryAdmin(principalOf(req));

export const listHooksRoute: RouteHandler = async (req) => {
  registryAdmin(req);
  const { limit, cursor } = parse(ListQuery, req.query);
  return { status: 200, body: await listHooks(hookStore, limit, cursor) };
};

export const listDeliveriesRoute: RouteHandler = async (req) => {
  registryAdmin(req);
  const { limit, cursor } = parse(ListQuery, req.query);
  return { status: 200, body: await listDeliveries(hookStore, req.params.id ?? '', limit, cursor) };
};
