/** Asset routes: thin adapters from HTTP to the domain. */
import { CreateAssetRequest, DeleteQuery, ListAssetsQuery, UpdateAssetRequest } from '../../../contract/schemas.ts';
import { createAsset, deleteAsset, editAsset, getAssetRecord, listAssetSummaries } from '../../domain/assetService.ts';
import { atLeast, authorize } from '../../shared/auth.ts';
import { parse, principalOf, type RouteHandler } from '../../shared/http.ts';
import { actorOf, assetParam } from './actor.ts';

export const health: RouteHandler = async () => ({ status: 200, body: { status: 'ok' } });

export const listAssets: RouteHandler = async (req) => {
  const query = parse(ListAssetsQuery, req.query);
  const principal = principalOf(req);
  return { status: 200, body: await listAssetSummaries(query, (name) => atLeast(principal.roleOn(name), 'reader')) };
};

export const createAssetRoute: RouteHandler = async (req) => {
  const body = parse(CreateAssetRequest, req.body);
  authorize(principalOf(req), 'writer', body.name);
  const record = await createAsset(body, actorOf(req, body.name));
  return { status: 201, body: record, headers: { etag: record.etag, location: `/v1/assets/${record.name}` } };
};

export const getAsset: RouteHandler = async (req) => {
  const record = await getAssetRecord(assetParam(req));
  return { status: 200, body: record, headers: { etag: record.etag } };
};

export const updateAsset: RouteHandler = async (req) => {
  const asset = assetParam(req);
  const record = await editAsset(asset, parse(UpdateAssetRequest, req.body ?? {}), req.headers['if-match'], actorOf(req, asset));
  return { status: 200, body: record, headers: { etag: record.etag } };
};

export const deleteAssetRoute: RouteHandler = async (req) => {
  const name = assetParam(req);
  await deleteAsset(name, parse(DeleteQuery, req.query), actorOf(req, name));
  return { status: 204 };
};
