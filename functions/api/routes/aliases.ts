/** Alias and resolve routes: thin adapters from HTTP to the domain. */
import { ListQuery, ResolveQuery, SetAliasRequest } from '../../../contract/schemas.ts';
import { deleteAlias, listAliasRecords, setAlias } from '../../domain/aliasService.ts';
import { resolve } from '../../domain/resolve.ts';
import { parse, type RouteHandler } from '../../shared/http.ts';
import { actorOf, assetParam } from './actor.ts';

export const listAliases: RouteHandler = async (req) => {
  const { limit, cursor } = parse(ListQuery, req.query);
  return { status: 200, body: await listAliasRecords(assetParam(req), limit, cursor) };
};

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

export const resolveRoute: RouteHandler = async (req) => {
  const { stage } = parse(ResolveQuery, req.query);
  return { status: 200, body: await resolve(req.params.spec ?? '', { publishedOnly: stage === 'published' }) };
};
