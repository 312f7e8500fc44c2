/** The signer's SHA-256 (functions/adapters/keyedSha256.ts) against node:crypto, for every key shape SignatureV4 passes. */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyedSha256 } from '../../../functions/adapters/keyedSha256.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const message = 'AWS4-HMAC-SHA256\n20261204T000000Z\n20261204/us-east-1/s3/aws4_request\n';

describe('KeyedSha256', () => {
  it('hashes as SHA-256 without a secret, from strings and bytes', async () => {
    const hash = new KeyedSha256();
    hash.update(message);
    hash.update(new Uint8Array([1, 2, 3]));
    expect(hex(await hash.digest())).toBe(createHash('sha256').update(message).update(new Uint8Array([1, 2, 3])).digest('hex'));
  });

  it.each([
    ['a string', 'AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', Buffer.from('AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')],
    ['a Uint8Array', new Uint8Array(32).fill(7), Buffer.alloc(32, 7)],
    ['a slice of a larger buffer', new Uint8Array(new Uint8Array(64).fill(9).buffer, 16, 32), Buffer.alloc(32, 9)],
    ['an ArrayBuffer', new Uint8Array(32).fill(5).buffer, Buffer.alloc(32, 5)],
  ])('is HMAC-SHA256 keyed by %s, the same on every use of the key', async (_shape, secret, raw) => {
    const expected = createHmac('sha256', raw).update(message).digest('hex');
    for (let i = 0; i < 3; i++) {
      const hmac = new KeyedSha256(secret);
      hmac.update(message);
      expect(hex(await hmac.digest())).toBe(expected);
    }
  });

  it('starts afresh after a digest and after reset', async () => {
    const hmac = new KeyedSha256('key');
    hmac.update('first');
    await hmac.digest();
    hmac.update(message);
    expect(hex(await hmac.digest())).toBe(createHmac('sha256', 'key').update(message).digest('hex'));
    hmac.update('discarded');
    hmac.reset();
    hmac.update(message);
    expect(hex(await hmac.digest())).toBe(createHmac('sha256', 'key').update(message).digest('hex'));
  });

  it('stays right across many secrets, past the point where its string-key cache starts afresh (rotated credentials)', async () => {
    for (let i = 0; i < 50; i++) {
      const hmac = new KeyedSha256(`secret-${i}`);
      hmac.update(message);
      expect(hex(await hmac.digest())).toBe(createHmac('sha256', `secret-${i}`).update(message).digest('hex'));
    }
  });
});
