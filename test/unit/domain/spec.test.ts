import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { versionKey } from '../../../contract/keys.ts';
import { parseSpec, resolvePlan, selectVersion, type ResolvePlan, type Selector } from '../../../functions/domain/spec.ts';
import { ArcaError } from '../../../functions/shared/errors.ts';

describe('parseSpec', () => {
  it.each([
    ['fraud/xgb', { name: 'fraud/xgb', selector: { kind: 'latest' } }],
    ['fraud/xgb:latest', { name: 'fraud/xgb', selector: { kind: 'latest' } }],
    ['fraud/xgb:1.2.3', { name: 'fraud/xgb', selector: { kind: 'exact', version: '1.2.3' } }],
    ['fraud/xgb:2.0.0-rc.1', { name: 'fraud/xgb', selector: { kind: 'exact', version: '2.0.0-rc.1' } }],
    ['fraud/xgb:1', { name: 'fraud/xgb', selector: { kind: 'partial', major: 1 } }],
    ['fraud/xgb:1.2', { name: 'fraud/xgb', selector: { kind: 'partial', major: 1, minor: 2 } }],
    ['fraud/xgb:^1.2', { name: 'fraud/xgb', selector: { kind: 'range', range: '>=1.2.0 <2.0.0-0' } }],
    ['fraud/xgb:~1.2.3', { name: 'fraud/xgb', selector: { kind: 'range', range: '>=1.2.3 <1.3.0-0' } }],
    ['fraud/xgb:>=1.0.0 <2.0.0', { name: 'fraud/xgb', selector: { kind: 'range', range: '>=1.0.0 <2.0.0' } }],
    ['fraud/xgb:1.x', { name: 'fraud/xgb', selector: { kind: 'range', range: '>=1.0.0 <2.0.0-0' } }],
    ['fraud/xgb:*', { name: 'fraud/xgb', selector: { kind: 'range', range: '*' } }],
    ['fraud/xgb:production', { name: 'fraud/xgb', selector: { kind: 'alias', alias: 'production' } }],
    ['fraud/xgb:^1.2/sub/path', { name: 'fraud/xgb', selector: { kind: 'range', range: '>=1.2.0 <2.0.0-0' }, path: 'sub/path' }],
    ['fraud/xgb:champion/model.onnx', { name: 'fraud/xgb', selector: { kind: 'alias', alias: 'champion' }, path: 'model.onnx' }],
    ['fraud/xgb:1.2/tokenizer/', { name: 'fraud/xgb', selector: { kind: 'partial', major: 1, minor: 2 }, path: 'tokenizer' }],
  ])('%s', (raw, expected) => {
    expect(parseSpec(raw)).toEqual(expected);
  });

  it.each([
    ['Fraud/xgb:1'], // upper case name
    ['fraud//xgb:1'], // empty segment
    ['fraud/-:1'], // `-` alone is never a segment
    ['fraud/xgb:1.2.3+build'], // build metadata
    ['fraud/xgb:Production'], // not an alias, version or range
    ['fraud/xgb:1.02'], // leading zero
    ['fraud/xgb:1/../etc'], // path escape
    ['fraud/xgb:1//x'], // empty path segment
    [':1'], // no name
    ['fraud/xgb:'], // a colon with no selector (R-SPEC: `name` alone is latest, `name:` is a mistake)
    ['fraud/xgb:/x'], // the same, before a path
    ['fraud/xgb:1/a\\b'], // a backslash in the path
    ['fraud/xgb:1/a\u0001b'], // a control character in the path
    [`a:1.0.0-${'1.'.repeat(119)}1`], // an exact version too long to be a key
  ])('%s is a ValidationError', (raw) => {
    expect(() => parseSpec(raw)).toThrow(ArcaError);
    try {
      parseSpec(raw);
    } catch (e) {
      expect((e as ArcaError).code).toBe('ValidationError');
    }
  });

  it('reads name@1.0.0 as the npm spelling it is and suggests name:1.0.0', () => {
    expect(() => parseSpec('fraud/xgb@1.0.0')).toThrow('"fraud/xgb@1.0.0" is not a spec: a version follows a colon, as in "fraud/xgb:1.0.0"');
    expect(() => parseSpec('fraud/xgb@^1.2')).toThrow('as in "fraud/xgb:^1.2"');
  });
});

describe('selectVersion', () => {
  const versions = ['1.0.0', '1.1.0', '10.0.0', '1.2.0-rc.1', '2.0.0-rc.1', '1.1.5'];
  it.each<[string, string | undefined]>([
    ['a:1', '1.1.5'], // never 10.0.0
    ['a:1.1', '1.1.5'],
    ['a:10', '10.0.0'],
    ['a:3', undefined],
    ['a:latest', '10.0.0'],
    ['a:^1.0', '1.1.5'],
    ['a:^1.2.0-rc.0', '1.2.0-rc.1'], // a pre-release matches only a range naming one of its tuple
    ['a:>=2.0.0-rc.0', '10.0.0'],
    ['a:~2.0.0-rc.0', '2.0.0-rc.1'],
    ['a:1.2.0-rc.1', '1.2.0-rc.1'],
    ['a:1.2.0', undefined],
    ['a:*', '10.0.0'],
  ])('%s over [1.0, 1.1, 1.1.5, 10.0, rc…] → %s', (raw, expected) => {
    expect(selectVersion(parseSpec(raw).selector, versions)).toBe(expected);
  });
});

/**
 * Simulates the DynamoDB queries a plan describes over the sparse indexes, as the repository runs them:
 * per span its index, the key condition and `Limit`, then selection among the spans' picks. With
 * `publishedOnly`, `versions` are the published ones and a span reads the `published` index's partition
 * (functions/adapters/versionIndexes.ts `spanPartition`): releases for a stable span, pre-releases only for a live one.
 */
function runPlan(plan: ResolvePlan, selector: Selector, versions: string[], publishedOnly = false): string | undefined {
  if (plan.kind !== 'query') throw new Error('not a query plan');
  const inPartition = (index: 'live' | 'stable', v: string) =>
    index === 'stable' ? semver.prerelease(v) === null : !publishedOnly || semver.prerelease(v) !== null;
  const picks = plan.spans.map((span) => {
    const items = versions
      .filter((v) => inPartition(span.index, v))
      .map((v) => ({ v, key: versionKey(v) }))
      .filter((i) => span.prefix === undefined || i.key.startsWith(span.prefix))
      .filter((i) => (span.from === undefined || i.key >= span.from) && (span.to === undefined || i.key <= span.to))
      .sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0))
      .map((i) => i.v);
    return selectVersion(selector, items.slice(0, plan.limit));
  });
  return selectVersion(selector, picks.filter((p) => p !== undefined));
}

const versionArb = fc
  .tuple(
    fc.nat(12),
    fc.nat(12),
    fc.nat(12),
    fc.option(fc.array(fc.oneof(fc.nat(11).map(String), fc.constantFrom('rc', 'beta', 'alpha', 'rc-1', 'x9')), { minLength: 1, maxLength: 3 }), {
      nil: undefined,
    }),
  )
  .map(([a, b, c, pre]) => (pre ? `${a}.${b}.${c}-${pre.join('.')}` : `${a}.${b}.${c}`));

const selectorArb: fc.Arbitrary<{ raw: string; range: string }> = fc.oneof(
  fc.constant({ raw: 'latest', range: '*' }),
  fc.nat(12).map((m) => ({ raw: `${m}`, range: `${m}.x` })),
  fc.tuple(fc.nat(12), fc.nat(12)).map(([m, n]) => ({ raw: `${m}.${n}`, range: `${m}.${n}.x` })),
  fc
    .tuple(fc.constantFrom('^', '~', '>=', '<', '<=', '>', ''), versionArb)
    .filter(([op, v]) => op !== '' || semver.prerelease(v) === null)
    .map(([op, v]) => ({ raw: `${op}${v}`, range: `${op}${v}` })),
  fc.tuple(versionArb, versionArb).map(([a, b]) => ({ raw: `>=${a} <${b}`, range: `>=${a} <${b}` })),
  fc.tuple(fc.nat(12), fc.nat(12)).map(([a, b]) => ({ raw: `^${a}.0 || ~${b}.1`, range: `^${a}.0 || ~${b}.1` })),
);

describe('resolution (property)', () => {
  it('versionKey orders exactly as semver.compare', () => {
    fc.assert(
      fc.property(versionArb, versionArb, (a, b) => {
        const byKey = versionKey(a) < versionKey(b) ? -1 : versionKey(a) > versionKey(b) ? 1 : 0;
        expect(byKey).toBe(semver.compare(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('plan + query + select equals semver.maxSatisfying over every version', () => {
    fc.assert(
      fc.property(fc.uniqueArray(versionArb, { maxLength: 40 }), selectorArb, (versions, { raw, range }) => {
        const selector: Selector = parseSpec(`a:${raw}`).selector;
        const plan = resolvePlan(selector);
        const picked = plan.kind === 'get' ? selectVersion(selector, versions) : runPlan(plan, selector, versions);
        expect(picked ?? null).toBe(semver.maxSatisfying(versions, range));
      }),
      { numRuns: 3000 },
    );
  });

  it('stage=published: the same plan on the published index equals semver.maxSatisfying over the published versions', () => {
    fc.assert(
      fc.property(fc.uniqueArray(versionArb, { maxLength: 40 }), selectorArb, (published, { raw, range }) => {
        const selector: Selector = parseSpec(`a:${raw}`).selector;
        const plan = resolvePlan(selector);
        const picked = plan.kind === 'get' ? selectVersion(selector, published) : runPlan(plan, selector, published, true);
        expect(picked ?? null).toBe(semver.maxSatisfying(published, range));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('resolvePlan', () => {
  it.each<[string, ResolvePlan['kind'], string]>([
    ['a:1.2.3', 'get', ''],
    ['a:prod', 'alias', ''],
    ['a:latest', 'query', 'stable'],
    ['a:1', 'query', 'stable'],
    ['a:^1.2', 'query', 'stable'], // node-semver's `<2.0.0-0` bound admits no pre-release
    ['a:~1.2.3', 'query', 'stable'],
    ['a:1.x', 'query', 'stable'],
    ['a:*', 'query', 'stable'],
    ['a:>=1.0.0 <2.0.0', 'query', 'stable'],
    ['a:^2.0.0-rc.0', 'query', 'stable live'],
    ['a:>=1.2.0-0', 'query', 'stable live'],
    ['a:^1.0 || >=3.0.0-beta', 'query', 'stable stable live'],
  ])('%s → %s on [%s]', (raw, kind, indexes) => {
    const plan = resolvePlan(parseSpec(raw).selector);
    expect(plan.kind).toBe(kind);
    expect(plan.kind === 'query' ? plan.spans.map((s) => s.index).join(' ') : '').toBe(indexes);
  });
});

describe('range plans bound the query by the range (flat in the number of versions)', () => {
  const versions = ['1.0.0', '1.1.0', '1.2.0', '1.2.1-rc.1', '1.3.0-rc.1', '2.0.0', '3.0.0-beta.1', '3.0.0'];
  it.each([
    ['<1.2.0', '1.1.0'], // the strict upper bound is in the page: the answer is the second item
    ['>1.1.0 <1.2.0', undefined],
    ['>1.1.0 <=1.2.0', '1.2.0'],
    ['>=1.1.0 <1.2.0', '1.1.0'],
    ['>2.0.0', '3.0.0'],
    ['>3.0.0', undefined],
    ['<1.0.0', undefined],
    ['>2.0.0 <1.0.0', undefined], // an empty interval: no query at all
    ['^1.0 || >=3.0.0-beta <3.0.0', '3.0.0-beta.1'],
    ['>=1.2.1-rc.0 <2', '1.2.1-rc.1'], // 1.3.0-rc.1 sits higher in the interval but may not match
  ])('%s → %s', (range, expected) => {
    const selector = parseSpec(`a:${range}`).selector;
    const plan = resolvePlan(selector);
    expect(runPlan(plan, selector, versions)).toBe(expected);
    expect(semver.maxSatisfying(versions, range) ?? undefined).toBe(expected);
  });

  it('a plain range reads at most two items per alternative; a named pre-release adds its tuple on the live index', () => {
    expect(resolvePlan(parseSpec('a:^1.2').selector)).toEqual({
      kind: 'query',
      spans: [{ index: 'stable', from: versionKey('1.2.0'), to: versionKey('2.0.0-0') }],
      limit: 2,
    });
    expect(resolvePlan(parseSpec('a:>=1.2.1-rc.0 <2').selector)).toEqual({
      kind: 'query',
      spans: [
        { index: 'stable', from: versionKey('1.2.1-rc.0'), to: versionKey('2.0.0-0') },
        { index: 'live', from: versionKey('1.2.1-rc.0'), to: versionKey('1.2.1') },
      ],
      limit: 2,
    });
    expect(resolvePlan(parseSpec('a:>2 <1').selector)).toMatchObject({ spans: [] });
  });
});
