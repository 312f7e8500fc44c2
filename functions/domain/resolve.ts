/**
 * Spec resolution (R-SPEC): one DynamoDB request for exact, partial, range and latest specs, two for an
 * alias (the alias item, then the version item, which carries its alias set).
 */
import type { ResolveResult } from '../../contract/schemas.ts';
import { getAlias } from '../adapters/aliasesRepo.ts';
import { getVersion, queryResolvable } from '../adapters/versionsRepo.ts';
import { ArcaError, notFound } from '../shared/errors.ts';
import { mapInTurn } from '../shared/inTurn.ts';
import { fileUrl } from './download.ts';
import { isResolvable, type StoredFile, type VersionItem } from './model.ts';
import { formatSpec, parseSpec, resolvePlan, selectVersion, type AssetSpec } from './spec.ts';

export interface ResolveOptions {
  /** Only published versions take part (`stage=published`). */
  publishedOnly?: boolean;
}

const acceptable = (v: VersionItem | undefined, publishedOnly: boolean): VersionItem | undefined =>
  v && isResolvable(v) && (!publishedOnly || v.status === 'published') ? v : undefined;

/** The version a parsed spec names, or 404 echoing `raw`. */
export async function resolveVersion(spec: AssetSpec, raw: string, opts: ResolveOptions = {}): Promise<VersionItem> {
  const publishedOnly = opts.publishedOnly ?? false;
  const plan = resolvePlan(spec.selector);
  let found: VersionItem | undefined;
  switch (plan.kind) {
    case 'get':
      found = acceptable(await getVersion(spec.name, plan.version), publishedOnly);
      break;
    case 'alias': {
      const alias = await getAlias(spec.name, plan.alias);
      found = alias ? acceptable(await getVersion(spec.name, alias.version), publishedOnly) : undefined;
      break;
    }
    case 'query':
      found = await queryResolvable(spec.name, { ...plan, publishedOnly }, (items) => {
        const version = selectVersion(spec.selector, items.map((i) => i.version));
        return items.find((i) => i.version === version);
      });
      break;
  }
  if (!found) throw notFound(`nothing matches ${raw}`, { spec: raw });
  return found;
}

/** The verified files a spec path names: one file, or every file under a directory prefix. */
export function filesAt(version: VersionItem, path: string | undefined, raw: string): StoredFile[] {
  const files = version.files.filter((f) => f.verified && (path === undefined || f.path === path || f.path.startsWith(`${path}/`)));
  if (files.length === 0) throw notFound(`${raw}: version ${version.version} has no file at "${path ?? ''}"`, { spec: raw });
  return files;
}

export async function resolve(raw: string, opts: ResolveOptions = {}): Promise<ResolveResult> {
  const spec = parseSpec(raw);
  const version = await resolveVersion(spec, raw, opts);
  const files = filesAt(version, spec.path, raw);
  return {
    asset: version.asset,
    version: version.version,
    status: version.status,
    aliases: [...(version.aliases ?? [])].sort(),
    files: await mapInTurn(files, async (f) => ({ path: f.path, size: f.size, sha256: f.sha256, format: f.format, url: await fileUrl(f) })),
  };
}

/** Records (R-META) resolved at creation to exact specs, with each one's paramsHash; unresolvable → 400. */
export async function resolveRecords(records: readonly string[]): Promise<{ spec: string; paramsHash: string | null }[]> {
  return Promise.all(
    records.map(async (raw) => {
      try {
        const v = await resolveVersion(parseSpec(raw), raw);
        return { spec: formatSpec(v.asset, v.version), paramsHash: v.paramsHash ?? null };
      } catch (err) {
        if (err instanceof ArcaError && (err.code === 'NotFound' || err.code === 'ValidationError')) {
          throw new ArcaError('ValidationError', `record "${raw}" does not resolve: ${err.message}`, { record: raw });
        }
        throw err;
      }
    }),
  );
}
