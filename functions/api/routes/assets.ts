/** Asset reads: thin adapters from HTTP to the domain (the read function). */
import { ListAssetsQuery } from '../../../contract/readSchemas.ts';
import { getAssetRecord, listAssetSummaries } from '../../domain/assetService.ts';
import { atLeast } from '../../shared/auth.ts';
import { parse, principalOf, type RouteHandler } from '../../shared/http.ts';
import { assetParam } from './actor.ts';

export const health: RouteHandler = async () => ({ status: 200, body: { status: 'ok' } });

export const listAssets: RouteHandler = async (req) => {
  const query = parse(ListAssetsQuery, req.query);
  const principal = principalOf(req);
  return { status: 200, body: await listAssetSummaries(query, (name) => atLeast(principal.roleOn(name), 'reader')) };
};

export const getAsset: RouteHandler = async (req) => {
  const record = await getAssetRecord(assetParam(req));
  return { status: 200, body: record, headers: { etag: record.etag } };
};
