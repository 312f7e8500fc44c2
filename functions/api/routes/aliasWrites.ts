/** Alias changes: thin adapters from HTTP to the domain (the write function). */
import { SetAliasRequest } from '../../../contract/schemas.ts';
import { deleteAlias, setAlias } from '../../domain/aliasService.ts';
import { parse, type RouteHandler } from '../../shared/http.ts';
import { actorOf, assetParam } from './actor.ts';

export const setAliasRoute: RouteHandler = async (req) => {
  const asset = assetParam(req);
  const { version } = parse(SetAliasRequest, req.body);
  return { status: 200, body: await setAlias(asset, req.params.alias ?? '', version, actorOf(req, asset)) };
};

export const deleteAliasRoute: RouteHandler = async (req) => {
  const asset = assetParam(req);
  await deleteAlias(asset, req.params.alias ?? '', actorOf(req, asset));
  return { status: 204 };
};
