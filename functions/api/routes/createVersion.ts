/** POST …/-/versions: create a version, honouring `Idempotency-Key` for 24 h. */
import { CreateVersionRequest } from '../../../contract/schemas.ts';
import { idempotent } from '../../adapters/idempotency.ts';
import { createVersion } from '../../domain/createVersion.ts';
import { parse, principalOf, type ApiRequest, type RouteHandler } from '../../shared/http.ts';
import { actorOf, assetParam } from './actor.ts';

/** Runs `run` once per `Idempotency-Key` (when the request has one) within the asset `scope`. */
export function withIdempotency<T>(req: ApiRequest, scope: string, run: () => Promise<T>): Promise<T> {
  const key = req.headers['idempotency-key'];
  // Without the header the idempotency table is not touched: the create stays one read and one transaction.
  return key ? idempotent({ scope, principal: principalOf(req).id, key, body: req.body, lambda: req.lambda, run }) : run();
}

export const createVersionRoute: RouteHandler = async (req) => {
  const asset = assetParam(req);
  const body = parse(CreateVersionRequest, req.body);
  const record = await withIdempotency(req, asset, () => createVersion(asset, body, actorOf(req, asset)));
  return { status: 201, body: record, headers: { etag: record.etag, location: `/v1/assets/${asset}/-/versions/${record.version}` } };
};
