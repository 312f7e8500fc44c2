/** Lambda entry of the `write` group: every route that changes metadata or hands out uploads. */
import { createApi } from '../shared/http.ts';
import { deleteAliasRoute, setAliasRoute } from './routes/aliasWrites.ts';
import { createVersionRoute } from './routes/createVersion.ts';
import { createAssetRoute, deleteAssetRoute, updateAsset } from './routes/assetWrites.ts';
import {
  addFilesRoute,
  commitVersion,
  deleteVersionRoute,
  publishVersion,
  updateVersion,
  uploadParts,
  withdrawFilesRoute,
} from './routes/versionWrites.ts';
import { createHookRoute, deleteHookRoute } from './routes/hookWrites.ts';
import { commitOutputRoute, outputParts, promoteOutputRoute, putOutput } from './routes/outputWrites.ts';
import { deleteGrantRoute, putGrantRoute } from './routes/grants.ts';

export const handler = createApi('write', {
  createAsset: createAssetRoute,
  updateAsset,
  deleteAsset: deleteAssetRoute,
  createVersion: createVersionRoute,
  updateVersion,
  deleteVersion: deleteVersionRoute,
  addFiles: addFilesRoute,
  withdrawFiles: withdrawFilesRoute,
  commitVersion,
  uploadParts,
  publishVersion,
  setAlias: setAliasRoute,
  deleteAlias: deleteAliasRoute,
  createHook: createHookRoute,
  deleteHook: deleteHookRoute,
  putOutput,
  commitOutput: commitOutputRoute,
  outputParts,
  promoteOutput: promoteOutputRoute,
  putGrant: putGrantRoute,
  deleteGrant: deleteGrantRoute,
});
