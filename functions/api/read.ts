/** Lambda entry of the `read` group: list, read, resolve, download, audit, the OpenAPI document (table reads and presigned GETs only). */
import { createApi } from '../shared/http.ts';
import { listAliases, resolveRoute } from './routes/aliases.ts';
import { getAsset, health, listAssets } from './routes/assets.ts';
import { aliasHistoryRoute, listAuditRoute } from './routes/audit.ts';
import { downloadFile, getVersion, lineageRoute, listVersions } from './routes/versions.ts';
import { listDeliveriesRoute, listHooksRoute } from './routes/hooks.ts';
import { getOutput, listOutputs } from './routes/outputs.ts';
import { listGrantsRoute } from './routes/grants.ts';
import { openapi } from './routes/openapi.ts';

export const handler = createApi('read', {
  health,
  openapi,
  listAssets,
  getAsset,
  listVersions,
  getVersion,
  downloadFile,
  listAliases,
  aliasHistory: aliasHistoryRoute,
  listAudit: listAuditRoute,
  resolve: resolveRoute,
  listHooks: listHooksRoute,
  listDeliveries: listDeliveriesRoute,
  getOutput,
  listOutputs,
  lineage: lineageRoute,
  listGrants: listGrantsRoute,
});
