/** Webhook routes (R-EVENT): thin adapters from HTTP to functions/hooks/service.ts. Admins of the whole registry only. */
import { CreateHookRequest } from '../../../contract/events.ts';
import { ListQuery } from '../../../contract/schemas.ts';
import { auditPut } from '../../adapters/auditRepo.ts';
import { createHook, deleteHook, listDeliveries, listHooks, type HookAudit } from '../../hooks/service.ts';
import { hookStore, hooksEnv, secretBox } from '../../hooks/runtime.ts';
import { authorizeRegistryAdmin } from '../../shared/auth.ts';
import { principalOf, parse, type ApiRequest, type RouteHandler } from '../../shared/http.ts';

/** A hook sees events of any asset its prefix matches, and the list shows every hook. */
const registryAdmin = (req: ApiRequest): string => authorizeRegistryAdmin(principalOf(req));

const hookAudit =
  (req: ApiRequest, actor: string): HookAudit =>
  (action, hook) =>
    auditPut({ action, actor, requestId: req.requestId, hook });

export const listHooksRoute: RouteHandler = async (req) => {
  registryAdmin(req);
  const { limit, cursor } = parse(ListQuery, req.query);
  return { status: 200, body: await listHooks(hookStore, limit, cursor) };
};

export const createHookRoute: RouteHandler = async (req) => {
  const actor = registryAdmin(req);
  const request = parse(CreateHookRequest, req.body);
  const hook = await createHook(request, actor, { store: hookStore, audit: hookAudit(req, actor), box: secretBox(), policy: hooksEnv.policy });
  return { status: 201, body: hook, headers: { location: `/v1/hooks/${hook.id}` } };
};

export const deleteHookRoute: RouteHandler = async (req) => {
  const actor = registryAdmin(req);
  await deleteHook(hookStore, req.params.id ?? '', hookAudit(req, actor));
  return { status: 204 };
};

export const listDeliveriesRoute: RouteHandler = async (req) => {
  registryAdmin(req);
  const { limit, cursor } = parse(ListQuery, req.query);
  return { status: 200, body: await listDeliveries(hookStore, req.params.id ?? '', limit, cursor) };
};
