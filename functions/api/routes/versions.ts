/** Version reads: thin adapters from HTTP to the domain (the read function; changes are in versionWrites.ts). */
import { FilePath, LineageQuery, ListVersionsQuery } from '../../../contract/readSchemas.ts';
import { downloadUrl } from '../../domain/download.ts';
import { lineage } from '../../domain/lineage.ts';
import { getVersionRecord, listVersionRecords } from '../../domain/versionReads.ts';
import { parse, type RouteHandler } from '../../shared/http.ts';
import { assetParam } from './actor.ts';

export const versionParam = (req: Parameters<RouteHandler>[0]): string => req.params.version ?? '';

export const listVersions: RouteHandler = async (req) => ({
  status: 200,
  body: await listVersionRecords(assetParam(req), parse(ListVersionsQuery, req.query)),
});

export const getVersion: RouteHandler = async (req) => {
  const record = await getVersionRecord(assetParam(req), versionParam(req));
  return { status: 200, body: record, headers: { etag: record.etag } };
};

export const downloadFile: RouteHandler = async (req) => {
  const url = await downloadUrl(assetParam(req), versionParam(req), parse(FilePath, req.params.path));
  return { status: 302, headers: { location: url } };
};

export const lineageRoute: RouteHandler = async (req) => {
  const { version, ...page } = parse(LineageQuery, req.query);
  return { status: 200, body: await lineage(assetParam(req), version, page) };
};
