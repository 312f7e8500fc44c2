/**
 * Asset specs (SPEC R-SPEC): `NAME[:SELECTOR][/PATH]`, how to look them up in one DynamoDB request,
 * and which version among candidates answers them. All ordering and range logic is node-semver's.
 */
import * as semver from '../../contract/semver.ts';
import * as ranges from '../../contract/semverRanges.ts';
import { versionKey, versionKeyPrefix } from '../../contract/keys.ts';
import { isFilePath } from '../../contract/patterns.ts';
import { validationError } from '../shared/errors.ts';
import { parseAliasName } from './aliasNames.ts';
import { parseAssetName } from './names.ts';
import { storable } from './versions.ts';

export type Selector =
  | { kind: 'latest' }
  | { kind: 'exact'; version: string }
  | { kind: 'partial'; major: number; minor?: number }
  | { kind: 'range'; range: string }
  | { kind: 'alias'; alias: string };

export interface AssetSpec {
  name: string;
  selector: Selector;
  path?: string;
}

/**
 * Where in an index partition the answer may lie: a `vkey` prefix, or inclusive `vkey` bounds (either may be
 * missing). Empty: the whole partition.
 */
export interface KeySpan {
  prefix?: string;
  from?: string;
  to?: string;
}

/**
 * How to find the answer: `get` one version item; `alias` read the alias then its version; or `query` the
 * sparse indexes of resolvable versions for the asset, newest first, once per span (a range's `||`
 * alternatives are disjoint intervals, and a pre-release a range names adds the interval of its tuple).
 * `limit`: the answer is among the first `limit` items of a span (with `stage=published` too: its spans read the
 * `published` index, which holds nothing else).
 */
export type ResolvePlan =
  | { kind: 'get'; version: string }
  | { kind: 'alias'; alias: string }
  | { kind: 'query'; spans: IndexSpan[]; limit: number };

/** A key span of one sparse index: `stable` holds releases only, `live` pre-releases too. */
export type IndexSpan = KeySpan & { index: 'live' | 'stable' };

const PARTIAL = /^(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?$/;

export function parseSelector(raw: string): Selector {
  if (raw === 'latest') return { kind: 'latest' };
  const partial = PARTIAL.exec(raw);
  if (partial) {
    const major = Number(partial[1]);
    return partial[2] === undefined ? { kind: 'partial', major } : { kind: 'partial', major, minor: Number(partial[2]) };
  }
  if (raw.includes('+')) throw validationError(`selector "${raw}" has build metadata (+…), which Arca does not accept`, { selector: raw });
  if (/^\d/.test(raw) && semver.valid(raw) === raw) return { kind: 'exact', version: storable(raw) };
  const range = ranges.validRange(raw);
  if (range !== null) return { kind: 'range', range };
  if (/^[a-z]/.test(raw)) return { kind: 'alias', alias: parseAliasName(raw) };
  throw validationError(`"${raw}" is not a version, partial version, semver range, alias or "latest"`, { selector: raw });
}

export function parseSpec(raw: string): AssetSpec {
  const colon = raw.indexOf(':');
  if (colon < 0) {
    // `name@1.0.0` is npm's and pip's spelling; `@` is in no asset name, so it can only mean that.
    const at = raw.lastIndexOf('@');
    if (at > 0) {
      const suggestion = `${raw.slice(0, at)}:${raw.slice(at + 1)}`;
      throw validationError(`"${raw}" is not a spec: a version follows a colon, as in "${suggestion}"`, { spec: raw, suggestion });
    }
    return { name: parseAssetName(raw), selector: { kind: 'latest' } };
  }
  const name = parseAssetName(raw.slice(0, colon));
  const rest = raw.slice(colon + 1);
  const slash = rest.indexOf('/');
  const rawSelector = slash < 0 ? rest : rest.slice(0, slash);
  // `name` alone means latest; a colon promises a selector, so `name:` is a mistake, not a synonym.
  if (rawSelector === '') throw validationError(`spec "${raw}" has a colon but no selector`, { spec: raw });
  const selector = parseSelector(rawSelector);
  if (slash < 0) return { name, selector };
  const path = rest.slice(slash + 1).replace(/\/+$/, '');
  // The same rule as a declared file's path (so a backslash or control character is a 400, never a miss).
  if (!isFilePath(path)) {
    throw validationError(`spec path "${rest.slice(slash + 1)}" is not a relative file or directory path`, { spec: raw });
  }
  return { name, selector, path };
}

export function formatSpec(name: string, version: string, path?: string): string {
  return path ? `${name}:${version}/${path}` : `${name}:${version}`;
}

/**
 * A range can match a pre-release only when a comparator of the same comparator set names one of the same
 * X.Y.Z (node-semver's rule). The `<X.Y.Z-0` upper bound node-semver writes for `^`, `~` and `x` ranges admits
 * no pre-release of X.Y.Z, so it does not count.
 */
const admitsPrerelease = (c: ranges.Comparator): boolean => {
  const pre = c.semver.prerelease ?? []; // `*` parses to the ANY comparator, which has no prerelease list
  return pre.length > 0 && !(c.operator === '<' && pre.length === 1 && pre[0] === 0);
};

const isAny = (c: ranges.Comparator): boolean => c.value === ''; // `*`: node-semver's ANY comparator
const LOWER = new Set(['>', '>=', '', '=']);
const UPPER = new Set(['<', '<=', '', '=']);

/**
 * The key interval of one comparator set (R-SPEC range resolution flat in the number of versions): the
 * highest lower bound and the lowest upper bound, both taken inclusively (strictness is left to
 * `selectVersion`, which is why a span needs its two top items), or `undefined` when it is empty.
 */
function spanOf(comparators: readonly ranges.Comparator[]): KeySpan | undefined {
  let lower: semver.SemVer | undefined;
  let upper: semver.SemVer | undefined;
  for (const c of comparators) {
    if (isAny(c)) continue;
    if (LOWER.has(c.operator) && (!lower || semver.gt(c.semver, lower))) lower = c.semver;
    if (UPPER.has(c.operator) && (!upper || semver.lt(c.semver, upper))) upper = c.semver;
  }
  if (lower && upper && semver.gt(lower, upper)) return undefined;
  return { from: lower && versionKey(lower.version), to: upper && versionKey(upper.version) };
}

/** The part of `span` inside the keys of X.Y.Z's pre-releases and X.Y.Z itself, or `undefined` when they miss. */
function withinTuple(span: KeySpan, c: ranges.Comparator): KeySpan | undefined {
  const tuple = `${c.semver.major}.${c.semver.minor}.${c.semver.patch}`;
  const lowest = versionKey(`${tuple}-0`); // no pre-release of the tuple sorts below `-0`
  const release = versionKey(tuple);
  const from = span.from !== undefined && span.from > lowest ? span.from : lowest;
  const to = span.to !== undefined && span.to < release ? span.to : release;
  return from <= to ? { from, to } : undefined;
}

/**
 * Per comparator set: its releases on the stable index, and for every X.Y.Z it names a pre-release of, that
 * tuple's slice of the live index, where every item but the span's ends matches. So every span holds its
 * answer in its two top items: one Query per alternative plus one per named tuple, each reading ≤ 2 items.
 * Each live span lies inside its set's stable span, which the published-only reading relies on
 * (functions/adapters/versionIndexes.ts `spanPartition`).
 */
function rangePlan(range: string): ResolvePlan {
  const spans = new ranges.Range(range).set.flatMap((comparators): IndexSpan[] => {
    const span = spanOf(comparators);
    if (!span) return [];
    const tuples = new Map(comparators.filter(admitsPrerelease).map((c) => [`${c.semver.major}.${c.semver.minor}.${c.semver.patch}`, c]));
    const prereleases = [...tuples.values()].map((c) => withinTuple(span, c)).filter((s): s is KeySpan => s !== undefined);
    return [{ index: 'stable', ...span }, ...prereleases.map((s): IndexSpan => ({ index: 'live', ...s }))];
  });
  return { kind: 'query', spans, limit: 2 };
}

export function resolvePlan(selector: Selector): ResolvePlan {
  switch (selector.kind) {
    case 'exact':
      return { kind: 'get', version: selector.version };
    case 'alias':
      return { kind: 'alias', alias: selector.alias };
    case 'latest':
      return { kind: 'query', spans: [{ index: 'stable' }], limit: 1 };
    case 'partial':
      return { kind: 'query', spans: [{ index: 'stable', prefix: versionKeyPrefix(selector.major, selector.minor) }], limit: 1 };
    case 'range':
      return rangePlan(selector.range);
  }
}

const partialRange = (major: number, minor?: number): string => (minor === undefined ? `${major}.x` : `${major}.${minor}.x`);

/** The highest candidate the selector matches (pre-releases only where node-semver lets them match). */
export function selectVersion(selector: Selector, candidates: readonly string[]): string | undefined {
  switch (selector.kind) {
    case 'exact':
      return candidates.includes(selector.version) ? selector.version : undefined;
    case 'alias':
      return undefined;
    case 'latest':
      return ranges.maxSatisfying([...candidates], '*') ?? undefined;
    case 'partial':
      return ranges.maxSatisfying([...candidates], partialRange(selector.major, selector.minor)) ?? undefined;
    case 'range':
      return ranges.maxSatisfying([...candidates], selector.range) ?? undefined;
  }
}
