/**
 * Parameter-based persistence (R-CLIENT `loadOrGenerate`): the version of `name` made from `params` (and
 * the exact versions of its `records`) is looked up by the same paramsHash the service computes; only when
 * none exists is `generate` run and its output pushed with those params.
 */
import type { VersionRecord } from '../contract/schemas.ts';
import { paramsHash, type Dependency } from '../functions/domain/paramsHash.ts';
import { formatSpec } from '../functions/domain/spec.ts';
import type { ArcaClient } from './client.ts';
import { ArcaApiError } from './errors.ts';
import type { PullResult } from './pull.ts';
import type { PushOptions } from './push.ts';

export interface LoadOrGenerateOptions {
  /** Specs of the inputs this version is made from; their exact versions take part in the hash. */
  records?: string[];
  /** Pull the version's files into this directory (from the cache when possible). */
  outDir?: string;
  /** Options for the push when `generate` runs (version, bump, metadata, type…). */
  push?: Omit<PushOptions, 'params' | 'records'>;
}

export interface LoadOrGenerateResult {
  version: VersionRecord;
  /** Whether `generate` ran (no version with this paramsHash existed). */
  generated: boolean;
  paramsHash: string;
  pulled?: PullResult;
}

/** The exact `name:version` of each record and its own paramsHash, as the service stores them. */
async function dependencies(client: ArcaClient, records: string[]): Promise<Dependency[]> {
  return Promise.all(
    records.map(async (spec) => {
      const resolved = await client.resolve(spec);
      const v = await client.getVersion(resolved.asset, resolved.version);
      return { spec: formatSpec(resolved.asset, resolved.version), paramsHash: v.paramsHash ?? null };
    }),
  );
}

export async function loadOrGenerate(
  client: ArcaClient,
  name: string,
  params: Record<string, unknown>,
  generate: () => Promise<string | string[]>,
  opts: LoadOrGenerateOptions = {},
): Promise<LoadOrGenerateResult> {
  const records = opts.records ?? [];
  const hash = paramsHash(params, await dependencies(client, records));
  const found = await client.listVersions(name, { paramsHash: hash, limit: 100 }).catch((err: unknown) => {
    if (err instanceof ArcaApiError && err.code === 'NotFound') return { items: [] as VersionRecord[] };
    throw err;
  });
  // Newest first; a pending match is an upload still under way (or abandoned), not something to load. A version
  // without params is never a match, even if a registry from before null hashes filed it under the hash of `{}`.
  const match = found.items.find((v) => (v.status === 'ready' || v.status === 'published') && v.params !== undefined);
  let version: VersionRecord;
  let generated = false;
  if (match) {
    version = match;
  } else {
    const output = await generate();
    const paths = Array.isArray(output) ? output : [output];
    version = (await client.push(name, paths, { ...opts.push, params, records: records.length ? records : undefined })).version;
    generated = true;
    if (version.paramsHash && version.paramsHash !== hash) {
      throw new ArcaApiError('ClientError', `the service hashed these params to ${version.paramsHash}, the SDK to ${hash}: SDK and service disagree`);
    }
  }
  const pulled = opts.outDir ? await client.pull(`${name}:${version.version}`, { outDir: opts.outDir }) : undefined;
  return { version, generated, paramsHash: hash, pulled };
}
