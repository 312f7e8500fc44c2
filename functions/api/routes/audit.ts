/** Audit routes: the log (`GET /v1/audit`) and one alias's history. */
import { AliasHistoryQuery, AuditQuery } from '../../../contract/readSchemas.ts';
import { aliasHistory, listAudit } from '../../domain/audit.ts';
import { parseAssetName } from '../../domain/names.ts';
import { authorize } from '../../shared/auth.ts';
import { parse, principalOf, type RouteHandler } from '../../shared/http.ts';
import { assetParam } from './actor.ts';

/**
 * `?asset=` is readable by the asset's readers (its trail, whoever acted); without it the log spans every
 * asset, hooks and grants, so it needs admin on every name, as the hook routes do.
 */
export const listAuditRoute: RouteHandler = async (req) => {
  const query = parse(AuditQuery, req.query);
  authorize(principalOf(req), query.asset === undefined ? 'admin' : 'reader', query.asset === undefined ? '' : parseAssetName(query.asset));
  return { status: 200, body: await listAudit(query) };
};

export const aliasHistoryRoute: RouteHandler = async (req) => {
  const { at, limit, cursor } = parse(AliasHistoryQuery, req.query);
  return { status: 200, body: await aliasHistory(assetParam(req), req.params.alias ?? '', { at, limit, cursor }) };
};
