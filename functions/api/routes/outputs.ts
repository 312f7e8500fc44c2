/** Run-output reads (R-OUT): thin adapters from HTTP to functions/domain/outputReads.ts (changes: outputWrites.ts). */
import { ListQuery } from '../../../contract/readSchemas.ts';
import { listRunOutputs, readOutput } from '../../domain/outputReads.ts';
import { parse, type ApiRequest, type RouteHandler } from '../../shared/http.ts';

export const refOf = (req: ApiRequest) => ({ flow: req.params.flow ?? '', run: req.params.run ?? '', name: req.params.output ?? '' });

export const getOutput: RouteHandler = async (req) => {
  const { flow, run, name } = refOf(req);
  return { status: 200, body: await readOutput(flow, run, name) };
};

export const listOutputs: RouteHandler = async (req) => {
  const { flow, run } = refOf(req);
  return { status: 200, body: await listRunOutputs(flow, run, parse(ListQuery, req.query)) };
};
