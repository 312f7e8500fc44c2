/** POST …/-/versions: create a version, honouring `Idempotency-Key` for 24 h. */
import { CreateVersionRequest } from '../../../contract/schemas.ts';
import { idempotent } from '../../adapters/idempotency.ts';
import { createVersion } from '../../domain/createVersion.ts';
import { parse, principalOf, type RouteHandler } from '../../shared/http.ts';
import { actorOf, assetParam } from './actor.ts';

export const createVersionRoute: RouteHandler = async (req) => {
  const asset = assetParam(req);
  const body = parse(CreateVersionRequest, req.body);
  const key = req.headers['idempotency-key'];
  const run = () => createVersion(asset, body, actorOf(req, asset));
  // Without the header the idempotency table is not touched: the create stays one read and one transaction.
  const record = key ? await idempotent({ scope: asset, principal: principalOf(req).id, key, body: req.body, lambda: req.lambda, run }) : await run();
  return { status: 201, body: record, headers: { etag: record.etag, location: `/v1/assets/${asset}/-/versions/${record.version}` } };
};
