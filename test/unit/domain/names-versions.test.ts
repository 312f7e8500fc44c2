import { describe, expect, it } from 'vitest';
import { parseAliasName } from '../../../functions/domain/aliasNames.ts';
import { parseAssetName } from '../../../functions/domain/names.ts';
import { nextVersion, parseVersion } from '../../../functions/domain/versions.ts';
import { ArcaError } from '../../../functions/shared/errors.ts';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof ArcaError ? e.code : 'not-an-ArcaError';
  }
};

describe('asset names (R-NAME)', () => {
  it.each(['fraud/xgb', 'a', 'a/b/c/d/e/f/g/h/i/j', 'team.ml/model_v2', `${'a'.repeat(64)}/b`, '0-9'])('accepts %s', (name) => {
    expect(parseAssetName(name)).toBe(name);
  });
  it.each([
    ['', 'empty'],
    ['A', 'upper case'],
    ['-', '`-` alone'],
    ['a/-/b', 'the URL separator'],
    ['a..b', '".."'],
    ['a/', 'empty segment'],
    ['/a', 'leading slash'],
    ['a-', 'ends with -'],
    ['.a', 'starts with .'],
    ['a'.repeat(65), 'segment over 64'],
    ['a/b/c/d/e/f/g/h/i/j/k', '11 segments'],
    [`${`${'a'.repeat(64)}/`.repeat(3)}${'a'.repeat(64)}`, 'over 256 characters in 4 segments'],
  ])('refuses %s (%s)', (name) => {
    expect(codeOf(() => parseAssetName(name))).toBe('ValidationError');
  });
  it('names the offending segment', () => {
    try {
      parseAssetName('fraud/Bad/x');
    } catch (e) {
      expect((e as ArcaError).message).toContain('"Bad"');
      expect((e as ArcaError).details).toEqual({ name: 'fraud/Bad/x', segment: 'Bad' });
    }
    expect.assertions(2);
  });
});

describe('aliases (R-ALIAS)', () => {
  it.each(['production', 'champion', 'a', 'canary-2'])('accepts %s', (a) => expect(parseAliasName(a)).toBe(a));
  it.each(['latest', 'x', 'X', 'Prod', '1abc', 'a_b', `a${'b'.repeat(63)}`])('refuses %s', (a) => {
    expect(codeOf(() => parseAliasName(a))).toBe('ValidationError');
  });
});

describe('versions (R-VER)', () => {
  it.each([
    ['1.2.3', '1.2.3'],
    ['1.2', '1.2.0'],
    ['0.0', '0.0.0'],
    ['2.0.0-rc.1', '2.0.0-rc.1'],
  ])('%s → %s', (raw, v) => expect(parseVersion(raw)).toBe(v));
  it.each([
    '1',
    '1.2.3+build',
    'v1.2.3',
    '=1.2.3',
    '01.2.3',
    '1.2.3.4',
    '',
    'latest',
    '1.2-rc.1',
    `1.0.0-${'1.'.repeat(119)}1`, // valid semver, but its sort key would pass DynamoDB's 1,024 bytes
    '1.0.0-99999999999999999999', // a numeric identifier node-semver cannot hold as a number
  ])('refuses %s', (raw) => {
    expect(codeOf(() => parseVersion(raw))).toBe('ValidationError');
  });
  it.each<[string | undefined, 'major' | 'minor' | 'patch' | undefined, string]>([
    [undefined, undefined, '1.0.0'],
    [undefined, 'major', '1.0.0'],
    ['1.2.3', undefined, '1.3.0'],
    ['1.2.3', 'major', '2.0.0'],
    ['1.2.3', 'patch', '1.2.4'],
    ['2.0.0-rc.1', 'minor', '2.0.0'],
  ])('bump from %s by %s → %s', (highest, bump, v) => expect(nextVersion(highest, bump)).toBe(v));
  it('refuses a bump past the largest version with a ValidationError', () => {
    expect(codeOf(() => nextVersion('9007199254740991.0.0', 'major'))).toBe('ValidationError');
  });
});
