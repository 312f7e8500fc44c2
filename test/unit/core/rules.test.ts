/** Pure rules: part sizes, formats, file plans, item size, paramsHash, ETags, grants, env. Table-driven, no mocks. */
import '../../fixtures/unit-env.ts';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../../contract/env.ts';
import {
  MAX_ITEM_BYTES,
  assertItemFits,
  compositeChecksum,
  defaultFormat,
  partCount,
  partDigests,
  partLength,
  partSizeFor,
  planFiles,
} from '../../../functions/domain/files.ts';
import { paramsHash } from '../../../functions/domain/paramsHash.ts';
import { ifMatchHolds } from '../../../functions/domain/views.ts';
import { atLeast, authenticate, authorize } from '../../../functions/shared/auth.ts';
import { loadEnv, type Env } from '../../../functions/shared/env.ts';
import { ArcaError } from '../../../functions/shared/errors.ts';

const MIB = 1024 * 1024;
const code = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return err instanceof ArcaError ? err.code : `not an ArcaError: ${String(err)}`;
  }
};

describe('part sizes (R-UPLOAD)', () => {
  it.each([
    [70 * MIB, 64 * MIB, 2, 6 * MIB],
    [64 * MIB + 1, 64 * MIB, 2, 1],
    [640 * 1024 * MIB, 66 * MIB, 9930, 640 * 1024 * MIB - 9929 * 66 * MIB],
    [5 * 1024 ** 4, 525 * MIB, 9987, 5 * 1024 ** 4 - 9986 * 525 * MIB],
  ])('size %d → part size %d, %d parts, last %d bytes', (size, partSize, parts, last) => {
    expect(partSizeFor(size)).toBe(partSize);
    expect(partCount(size, partSize)).toBe(parts);
    expect(partLength(size, partSize, parts)).toBe(last);
    expect(partLength(size, partSize, 1)).toBe(partSize);
    expect(parts).toBeLessThanOrEqual(10_000);
  });
});

describe('formats (R-META)', () => {
  it.each([
    ['model.pkl', 'pkl'],
    ['tokenizer/vocab.JSON', 'json'],
    ['data.tar.gz', 'gz'],
    ['README', 'bin'],
    ['.hidden', 'bin'],
    ['weird.ext_that_is_far_too_long', 'bin'],
  ])('%s → %s', (path, format) => expect(defaultFormat(path)).toBe(format));
});

describe('planFiles', () => {
  const limits = { maxFormats: 3, multipartThreshold: 64 * MIB };
  const sha = (c: string) => c.repeat(64);
  const f = (path: string, extra: Record<string, unknown> = {}) => ({ path, size: 1, sha256: sha('a'), ...extra });

  it.each([
    ['distinct paths, 3 formats', [f('a.pkl'), f('b.onnx'), f('c.pmml')], 'ok'],
    ['4 formats', [f('a.pkl'), f('b.onnx'), f('c.pmml'), f('d.rda')], 'ValidationError'],
    ['explicit formats count', [f('a.bin', { format: 'x' }), f('b.bin', { format: 'y' }), f('c.bin', { format: 'z' }), f('d.bin', { format: 'x' })], 'ok'],
    ['a path twice', [f('a.pkl'), f('a.pkl')], 'ValidationError'],
    ['multipart without parts', [f('big.bin', { size: 70 * MIB })], 'ValidationError'],
    ['multipart with the wrong number of parts', [f('big.bin', { size: 70 * MIB, parts: [sha('1')] })], 'ValidationError'],
    ['multipart with its parts', [f('big.bin', { size: 70 * MIB, parts: [sha('1'), sha('2')] })], 'ok'],
    ['parts on a small file', [f('small.bin', { parts: [sha('1')] })], 'ValidationError'],
  ])('%s → %s', (_what, decls, expected) => expect(code(() => planFiles(decls, [], limits))).toBe(expected));

  it('counts formats and paths already in the version', () => {
    const existing = planFiles([f('a.pkl'), f('b.onnx')], [], limits);
    expect(code(() => planFiles([f('c.pmml')], existing, limits))).toBe('ok');
    expect(code(() => planFiles([f('c.pmml'), f('d.rda')], existing, limits))).toBe('ValidationError');
    expect(code(() => planFiles([f('a.pkl')], existing, limits))).toBe('AlreadyExists');
  });

  it('keeps part digests compactly and computes the composite checksum S3 reports', () => {
    const [file] = planFiles([f('big.bin', { size: 70 * MIB, parts: [sha('1'), sha('2')] })], [], limits);
    expect(file?.parts?.byteLength).toBe(64);
    expect(partDigests(file!)).toEqual([sha('1'), sha('2')]);
    expect(compositeChecksum(file!)).toMatch(/^[A-Za-z0-9+/]{43}=-2$/);
  });
});

describe('item size guard', () => {
  it('refuses a version item over the limit with 413', () => {
    expect(code(() => assertItemFits({ description: 'x'.repeat(MAX_ITEM_BYTES - 100) }))).toBe('ok');
    expect(code(() => assertItemFits({ description: 'x'.repeat(MAX_ITEM_BYTES + 1) }))).toBe('PayloadTooLarge');
  });
});

describe('paramsHash (R-META)', () => {
  const deps = [
    { spec: 'data/b:1.0.0', paramsHash: null },
    { spec: 'data/a:2.0.0', paramsHash: 'f'.repeat(64) },
  ];
  it('is the SHA-256 of the RFC 8785 form of { params, dependencies sorted by spec }', () => {
    // canonical: keys sorted, no whitespace
    const expected = '{"dependencies":[{"paramsHash":"' + 'f'.repeat(64) + '","spec":"data/a:2.0.0"},{"paramsHash":null,"spec":"data/b:1.0.0"}],"params":{"a":1,"b":[1,2]}}';
    const { createHash } = process.getBuiltinModule('node:crypto');
    expect(paramsHash({ b: [1, 2], a: 1 }, deps)).toBe(createHash('sha256').update(expected).digest('hex'));
  });
  it.each([
    ['key order', { a: 1, b: 2 }, { b: 2, a: 1 }, true],
    ['number form', { x: 1.0 }, { x: 1 }, true],
    ['values', { x: 1 }, { x: 2 }, false],
  ])('%s', (_what, p, q, same) => expect(paramsHash(p, deps) === paramsHash(q, [...deps].reverse())).toBe(same));
});

describe('If-Match', () => {
  it.each([
    [undefined, true],
    ['*', true],
    ['"3"', true],
    ['W/"3"', true],
    ['"2", "3"', true],
    ['"2"', false],
  ])('%s against revision 3 → %s', (header, holds) => expect(ifMatchHolds(header, 3)).toBe(holds));
});

describe('auth (R-SEC)', () => {
  const base = loadEnv({
    [ENV.assetsTable]: 'A',
    [ENV.versionsTable]: 'V',
    [ENV.aliasesTable]: 'L',
    [ENV.blobsTable]: 'B',
    [ENV.grantsTable]: 'G',
    [ENV.auditTable]: 'U',
    [ENV.outputsTable]: 'O',
    [ENV.lineageTable]: 'N',
    [ENV.bucket]: 'b',
    [ENV.authMode]: 'iam',
    [ENV.grants]: JSON.stringify([
      { principal: 'arn:aws:iam::1:role/ci', prefix: 'fraud/', role: 'writer' },
      { principal: 'arn:aws:iam::1:role/ci', prefix: 'fraud/prod/', role: 'publisher' },
      { principal: 'group:ml-admins', prefix: '', role: 'admin' },
      { principal: 'user-7', prefix: 'shared/', role: 'reader' },
    ]),
  });
  const iam = (arn?: string) => ({ authorizer: arn ? { iam: { userArn: arn } } : undefined });
  const jwt = (claims: Record<string, unknown>) => ({ authorizer: { jwt: { claims } } });
  const jwtEnv: Env = { ...base, authMode: 'jwt' };
  const tokenEnv: Env = { ...base, authMode: 'token', localToken: 'secret' };

  it.each([
    ['writer on its prefix', base, iam('arn:aws:iam::1:role/ci'), 'writer', 'fraud/xgb', 'ok'],
    ['writer is not publisher', base, iam('arn:aws:iam::1:role/ci'), 'publisher', 'fraud/xgb', 'Forbidden'],
    ['the longer grant raises the role', base, iam('arn:aws:iam::1:role/ci'), 'publisher', 'fraud/prod/xgb', 'ok'],
    ['no grant on another prefix', base, iam('arn:aws:iam::1:role/ci'), 'reader', 'vision/resnet', 'Forbidden'],
    ['unsigned IAM call', base, iam(), 'reader', 'fraud/xgb', 'Unauthorized'],
    ['JWT group admin', jwtEnv, jwt({ sub: 'u1', 'cognito:groups': '[ml-admins other]' }), 'admin', 'any/thing', 'ok'],
    ['JWT subject reader', jwtEnv, jwt({ sub: 'user-7' }), 'reader', 'shared/x', 'ok'],
    ['JWT subject not writer', jwtEnv, jwt({ sub: 'user-7' }), 'writer', 'shared/x', 'Forbidden'],
    ['JWT without subject', jwtEnv, jwt({}), 'reader', 'shared/x', 'Unauthorized'],
  ])('%s', (_what, config, ctx, role, name, expected) =>
    expect(code(() => authorize(authenticate({}, ctx, config), role as 'reader', name))).toBe(expected),
  );

  it.each([
    [{ authorization: 'Bearer secret' }, 'ok'],
    [{ authorization: 'Bearer wrong' }, 'Unauthorized'],
    [{ authorization: 'Basic secret' }, 'Unauthorized'],
    [{}, 'Unauthorized'],
  ])('token mode %j → %s (the token is an admin)', (headers, expected) =>
    expect(code(() => authorize(authenticate(headers, {}, tokenEnv), 'admin', 'x'))).toBe(expected),
  );

  it('ranks roles', () => {
    expect(atLeast('admin', 'reader')).toBe(true);
    expect(atLeast('writer', 'publisher')).toBe(false);
    expect(atLeast(undefined, 'reader')).toBe(false);
  });
});

describe('env (read once, fail fast naming the variable)', () => {
  const minimal = { [ENV.assetsTable]: 'A', [ENV.versionsTable]: 'V', [ENV.aliasesTable]: 'L', [ENV.blobsTable]: 'B', [ENV.grantsTable]: 'G', [ENV.auditTable]: 'U', [ENV.outputsTable]: 'O', [ENV.lineageTable]: 'N', [ENV.bucket]: 'b', [ENV.authMode]: 'iam' };
  it.each([
    [{ ...minimal, [ENV.bucket]: undefined }, /ARCA_BUCKET is required/],
    [{ ...minimal, [ENV.authMode]: 'basic' }, /ARCA_AUTH_MODE must be one of/],
    [{ ...minimal, [ENV.authMode]: 'token' }, /ARCA_LOCAL_TOKEN is required/],
    [{ ...minimal, [ENV.maxVersionsPerAsset]: '0' }, /ARCA_MAX_VERSIONS_PER_ASSET must be an integer in 1–1000/],
    [{ ...minimal, [ENV.grants]: '[{"principal":"x"}]' }, /ARCA_GRANTS entry 0/],
    [{ ...minimal, [ENV.verifyMode]: 'trust' }, /ARCA_VERIFY_MODE must be one of/],
    [{ ...minimal, [ENV.grantsTable]: undefined }, /ARCA_GRANTS_TABLE is required/],
    [{ ...minimal, [ENV.grantsCacheSeconds]: '-1' }, /ARCA_GRANTS_CACHE_SECONDS must be an integer in 0–3600/],
  ])('%#: refuses a bad environment', (src, message) => expect(() => loadEnv(src)).toThrow(message));

  it('applies the spec defaults', () => {
    expect(loadEnv(minimal)).toMatchObject({ maxVersionsPerAsset: 30, maxFormatsPerVersion: 3, presignGetTtl: 900, presignPutTtl: 3600, pendingTtlSeconds: 86_400, verifyMode: 's3-checksum', grants: [], grantsCacheMs: 30_000 });
  });
});
