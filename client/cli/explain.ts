/**
 * Error messages of the CLI that need more than the service's answer: a spec nothing matches (does the asset
 * exist, which versions are nearest), and `rm` refusals in the CLI's own flags. The code, status and request id
 * of the service's error are kept; only the message says more.
 */
import semver from 'semver';
import type { VersionRecord } from '../../contract/schemas.ts';
import type { ArcaClient } from '../client.ts';
import { ArcaApiError } from '../errors.ts';
import { plural } from './output.ts';

const NEAREST = 2;

const withMessage = (e: ArcaApiError, message: string): ArcaApiError =>
  new ArcaApiError(e.code, message, { status: e.status, requestId: e.requestId, details: e.details, cause: e });

/** The versions closest to `base` in semver order (two below, two above), else the highest ones. */
export function nearestVersions(versions: readonly string[], base: string | undefined): string[] {
  const sorted = versions.filter((v) => semver.valid(v)).sort(semver.compare);
  if (base === undefined) return sorted.slice(-NEAREST * 2);
  const above = sorted.findIndex((v) => semver.gt(v, base));
  const at = above < 0 ? sorted.length : above;
  return sorted.slice(Math.max(0, at - NEAREST), at + NEAREST);
}

/** Where in version order the spec's selector points, when it points anywhere (not an alias or latest). */
async function selectorBase(spec: string): Promise<{ name: string; base: string | undefined; alias: string | undefined }> {
  const { parseSpec } = await import('../../functions/domain/spec.ts');
  const { name, selector } = parseSpec(spec);
  switch (selector.kind) {
    case 'exact':
      return { name, base: selector.version, alias: undefined };
    case 'partial':
      return { name, base: `${selector.major}.${selector.minor ?? 0}.0`, alias: undefined };
    case 'range':
      return { name, base: semver.minVersion(selector.range)?.version, alias: undefined };
    case 'alias':
      return { name, base: undefined, alias: selector.alias };
    case 'latest':
      return { name, base: undefined, alias: undefined };
  }
}

const describeVersion = (v: VersionRecord) => (v.status === 'published' ? v.version : `${v.version} (${v.status})`);

/**
 * "nothing matches SPEC" from the service, completed: whether the asset exists, and its nearest versions (or,
 * for an alias, the aliases it has). Any other error, or a failure while looking, leaves the error as it was.
 */
export async function explainNoMatch(client: ArcaClient, err: unknown): Promise<unknown> {
  const spec = err instanceof ArcaApiError && err.code === 'NotFound' ? (err.details as { spec?: unknown } | undefined)?.spec : undefined;
  if (typeof spec !== 'string') return err;
  const e = err as ArcaApiError;
  try {
    const { name, base, alias } = await selectorBase(spec);
    const exists = await client.getAsset(name).then(
      () => true,
      (lookup: unknown) => (lookup instanceof ArcaApiError && lookup.code === 'NotFound' ? false : Promise.reject(lookup)),
    );
    if (!exists) return withMessage(e, `nothing matches ${spec}: there is no asset ${name}`);
    if (alias !== undefined) {
      const aliases = (await client.listAliases(name)).items.map((a) => `${a.alias} → ${a.version}`);
      return withMessage(e, `nothing matches ${spec}: ${name} has no alias ${alias}${aliases.length ? `; its aliases: ${aliases.join(', ')}` : ' (it has no aliases)'}`);
    }
    const versions = (await client.listVersions(name, { limit: 100 })).items;
    if (versions.length === 0) return withMessage(e, `nothing matches ${spec}: asset ${name} exists but has no live version`);
    const nearest = nearestVersions(versions.map((v) => v.version), base);
    const byVersion = new Map(versions.map((v) => [v.version, v]));
    return withMessage(e, `nothing matches ${spec}: asset ${name} exists; nearest versions: ${nearest.map((v) => describeVersion(byVersion.get(v)!)).join(', ')}`);
  } catch {
    return err;
  }
}

/** `rm` refusals of the service (which speaks of its `force=true` parameter) in the CLI's flags. */
export function explainRm(err: unknown, name: string, version: string | undefined): unknown {
  if (!(err instanceof ArcaApiError)) return err;
  if (err.code === 'VersionPublished') return withMessage(err, `${name}:${version} is published: an admin deletes it with --force --reason "why"`);
  const live = (err.details as { liveVersions?: unknown } | undefined)?.liveVersions;
  if (version === undefined && typeof live === 'number') {
    return withMessage(err, `asset ${name} has ${plural(live, 'live version')}: delete it with --force --reason "why" (admin)`);
  }
  return err;
}
