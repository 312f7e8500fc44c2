import type { Actor } from '../../domain/model.ts';
import { principalOf, type ApiRequest } from '../../shared/http.ts';

/** The acting principal, and whether it is an admin on `name`. */
export function actorOf(req: ApiRequest, name: string): Actor {
  const p = principalOf(req);
  return { principal: p.id, isAdmin: p.roleOn(name) === 'admin', requestId: req.requestId };
}

export const assetParam = (req: ApiRequest): string => req.params.name ?? '';
