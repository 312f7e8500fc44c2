import type { Actor } from '../../domain/model.ts';
import { atLeast } from '../../shared/auth.ts';
import { principalOf, type ApiRequest } from '../../shared/http.ts';

/** The acting principal, and whether it is a publisher or an admin on `name`. */
export function actorOf(req: ApiRequest, name: string): Actor {
  const p = principalOf(req);
  const role = p.roleOn(name);
  return { principal: p.id, isAdmin: role === 'admin', isPublisher: atLeast(role, 'publisher'), requestId: req.requestId };
}

export const assetParam = (req: ApiRequest): string => req.params.name ?? '';
