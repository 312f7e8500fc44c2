/** Alias reads and resolve: thin adapters from HTTP to the domain (the read function). */
import { ListQuery, ResolveQuery } from '../../../contract/readSchemas.ts';
import { listAliasRecords } from '../../domain/aliasService.ts';
import { resolve } from '../../domain/resolve.ts';
import { parse, type RouteHandler } from '../../shared/http.ts';
import { assetParam } from './actor.ts';

export const listAliases: RouteHandler = async (req) => {
  const { limit, cursor } = parse(ListQuery, req.query);
  return { status: 200, body: await listAliasRecords(assetParam(req), limit, cursor) };
};

export const resolveRoute: RouteHandler = async (req) => {
  const { stage } = parse(ResolveQuery, req.query);
  return { status: 200, body: await resolve(req.params.spec ?? '', { publishedOnly: stage === 'published' }) };
};
