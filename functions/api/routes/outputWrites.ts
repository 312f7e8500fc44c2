/** Run-output changes (R-OUT): thin adapters from HTTP to functions/domain/outputs.ts. */
import { PromoteOutputRequest, PutOutputRequest, UploadPartsRequest } from '../../../contract/schemas.ts';
import { promoteOutput } from '../../domain/outputPromotion.ts';
import { commitOutput, declareOutput, reissueOutputParts } from '../../domain/outputs.ts';
import { authorize } from '../../shared/auth.ts';
import { parse, principalOf, type ApiRequest, type RouteHandler } from '../../shared/http.ts';
import { actorOf } from './actor.ts';
import { withIdempotency } from './createVersion.ts';
import { refOf } from './outputs.ts';

const flowName = (req: ApiRequest) => `flows/${req.params.flow ?? ''}`;

export const putOutput: RouteHandler = async (req) => {
  const { flow, run, name } = refOf(req);
  const { record, created } = await declareOutput(flow, run, name, parse(PutOutputRequest, req.body), actorOf(req, flowName(req)));
  const headers: Record<string, string> = created ? { location: `/v1/flows/${flow}/runs/${run}/outputs/${name}` } : {};
  return { status: created ? 201 : 200, body: record, headers };
};

export const commitOutputRoute: RouteHandler = async (req) => {
  const { flow, run, name } = refOf(req);
  const { record, complete } = await commitOutput(flow, run, name);
  // 202 as for versions: the bytes are there and still being verified; committing again reports the outcome.
  return { status: complete ? 200 : 202, body: record };
};

export const outputParts: RouteHandler = async (req) => {
  const { flow, run, name } = refOf(req);
  const { from } = parse(UploadPartsRequest, req.body ?? {});
  return { status: 200, body: await reissueOutputParts(flow, run, name, req.params.uploadId ?? '', from) };
};

/** Writer on the flow (the route's role) and writer on the asset the version is made in. */
export const promoteOutputRoute: RouteHandler = async (req) => {
  const { flow, run, name } = refOf(req);
  const body = parse(PromoteOutputRequest, req.body);
  authorize(principalOf(req), 'writer', body.asset);
  const record = await withIdempotency(req, body.asset, () => promoteOutput(flow, run, name, body, actorOf(req, body.asset)));
  return { status: 201, body: record, headers: { etag: record.etag, location: `/v1/assets/${record.asset}/-/versions/${record.version}` } };
};
