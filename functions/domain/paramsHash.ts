/**
 * paramsHash (SPEC R-META): SHA-256 of the RFC 8785 canonical JSON of `{ params, dependencies }`.
 * Pure and free of AWS imports so the SDK's `loadOrGenerate` computes the same hash client-side.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export interface Dependency {
  /** The exact spec of a record, `name:version`. */
  spec: string;
  /** That version's own paramsHash, or null when it has none. */
  paramsHash: string | null;
}

/**
 * Dependencies are sorted by spec so record order does not matter. There is no hash without params: a version
 * pushed without them has none (null), so it can never be taken for the one made from `{}`.
 */
export function paramsHash(params: Record<string, unknown>, dependencies: readonly Dependency[] = []): string {
  const sorted = [...dependencies]
    .map((d) => ({ spec: d.spec, paramsHash: d.paramsHash }))
    .sort((a, b) => (a.spec < b.spec ? -1 : a.spec > b.spec ? 1 : 0));
  const json = canonicalize({ params, dependencies: sorted });
  if (json === undefined) throw new TypeError('params cannot be serialized as JSON');
  return createHash('sha256').update(json, 'utf8').digest('hex');
}
