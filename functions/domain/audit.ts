/** The audit log's reads: the filtered listing and one alias's history (both newest first). */
import type { AuditEntry, AuditQuery } from '../../contract/schemas.ts';
import { aliasHistory as queryAliasHistory, queryAudit } from '../adapters/auditRepo.ts';
import { validationError } from '../shared/errors.ts';
import { parseAliasName } from './aliasNames.ts';
import { parseAssetName } from './names.ts';

export type AuditPage = { items: AuditEntry[]; nextCursor?: string };

export async function listAudit(q: AuditQuery): Promise<AuditPage> {
  if (q.since !== undefined && q.until !== undefined && q.since > q.until) throw validationError('since is after until', { since: q.since, until: q.until });
  return queryAudit({ ...q, asset: q.asset === undefined ? undefined : parseAssetName(q.asset) });
}

/** Every move and deletion of an alias; with `at`, the one entry in force at that time (none before the first move). */
export async function aliasHistory(asset: string, rawAlias: string, opts: { at?: string; limit: number; cursor?: string }): Promise<AuditPage> {
  return queryAliasHistory(asset, parseAliasName(rawAlias), opts);
}
