/** The console's PKCE helpers (local/console/pkce.js), run in Node on the same Web Crypto the browser has. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: the console is plain browser JavaScript with no type declarations (no build step).
import { base64url, codeChallenge, randomVerifier } from '../../local/console/pkce.js';

const pkce = { base64url, codeChallenge, randomVerifier } as {
  base64url: (bytes: Uint8Array) => string;
  codeChallenge: (verifier: string) => Promise<string>;
  randomVerifier: () => string;
};

describe('PKCE helpers (RFC 7636)', () => {
  it('derives the S256 challenge of RFC 7636 appendix B', async () => {
    expect(await pkce.codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('is base64url(sha256(verifier)) for random verifiers, as node:crypto computes it', async () => {
    for (let i = 0; i < 20; i++) {
      const verifier = pkce.randomVerifier();
      expect(await pkce.codeChallenge(verifier)).toBe(createHash('sha256').update(verifier).digest('base64url'));
    }
  });

  it('makes verifiers of 43 unreserved characters, never the same twice', () => {
    const seen = new Set(Array.from({ length: 200 }, () => pkce.randomVerifier()));
    expect(seen.size).toBe(200);
    for (const v of seen) expect(v).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('encodes base64url without padding, with - and _ for + and /', () => {
    expect(pkce.base64url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
    expect(pkce.base64url(new Uint8Array([]))).toBe('');
  });
});
