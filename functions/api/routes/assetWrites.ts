/** Asset changes: thin adapters from HTTP to the domain (the write function). */
import { CreateAssetRequest, DeleteQuery, UpdateAssetRequest } from '../../../contract/schemas.ts';
import { createAsset, deleteAsset, editAsset } from '../../domain/assetService.ts';
import { authorize } from '../../shared/auth.ts';
import { parse, principalOf, type RouteHandler } from '../../shared/http.ts';
import { actorOf, assetParam } from './actor.ts';

export const createAssetRoute: RouteHandler = async (req) => {
  const body = parse(CreateAssetRequest, req.body);
  authorize(principalOf(req), 'writer', body.name);
  const record = await createAsset(body, actorOf(req, body.name));
  return { status: 201, body: record, headers: { etag: record.etag, location: `/v1/assets/${record.name}` } };
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
