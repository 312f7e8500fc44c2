/** Version changes: thin adapters from HTTP to the domain (the write function). */
import { AddFilesRequest, DeleteQuery, UpdateVersionRequest, UploadPartsRequest, WithdrawFilesQuery } from '../../../contract/schemas.ts';
import { addFiles, commit, deleteVersion, publish, reissueParts, updateVersionMetadata, withdrawFiles } from '../../domain/versionService.ts';
import { parse, type RouteHandler } from '../../shared/http.ts';
import { actorOf, assetParam } from './actor.ts';
import { versionParam } from './versions.ts';

export const updateVersion: RouteHandler = async (req) => {
  const asset = assetParam(req);
  const record = await updateVersionMetadata(asset, versionParam(req), parse(UpdateVersionRequest, req.body ?? {}), req.headers['if-match'], actorOf(req, asset));
  return { status: 200, body: record, headers: { etag: record.etag } };
};

export const deleteVersionRoute: RouteHandler = async (req) => {
  const asset = assetParam(req);
  return { status: 200, body: await deleteVersion(asset, versionParam(req), parse(DeleteQuery, req.query), actorOf(req, asset)) };
};

export const addFilesRoute: RouteHandler = async (req) => {
  const asset = assetParam(req);
  return { status: 200, body: await addFiles(asset, versionParam(req), parse(AddFilesRequest, req.body), actorOf(req, asset)) };
};

export const withdrawFilesRoute: RouteHandler = async (req) => {
  const asset = assetParam(req);
  const { format } = parse(WithdrawFilesQuery, req.query);
  return { status: 200, body: await withdrawFiles(asset, versionParam(req), format, actorOf(req, asset)) };
};

export const commitVersion: RouteHandler = async (req) => {
  const asset = assetParam(req);
  const { record, complete } = await commit(asset, versionParam(req), actorOf(req, asset));
  // 202: the bytes are there and still being verified; committing again reports the outcome.
  return { status: complete ? 200 : 202, body: record };
};

export const uploadParts: RouteHandler = async (req) => {
  const { from } = parse(UploadPartsRequest, req.body ?? {});
  return { status: 200, body: await reissueParts(assetParam(req), versionParam(req), req.params.uploadId ?? '', from) };
};

export const publishVersion: RouteHandler = async (req) => {
  const asset = assetParam(req);
  return { status: 200, body: await publish(asset, versionParam(req), actorOf(req, asset)) };
};
