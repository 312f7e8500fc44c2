/** Webhook changes (R-EVENT): thin adapters from HTTP to functions/hooks/service.ts. Admins of the whole registry only. */
import { CreateHookRequest } from '../../../contract/events.ts';
import { auditPut } from '../../adapters/auditRepo.ts';
import { createHook, deleteHook, type HookAudit } from '../../hooks/service.ts';
import { hookStore, hooksEnv, secretBox } from '../../hooks/runtime.ts';
import { parse, type ApiRequest, type RouteHandler } from '../../shared/http.ts';
import { registryAdmin } from './hooks.ts';

const hookAudit =
  (req: ApiRequest, actor: string): HookAudit =>
  (action, hook) =>
    auditPut({ action, actor, requestId: req.requestId, hook });

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
