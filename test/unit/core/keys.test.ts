/** Blob keys (contract/keys.ts): written by the service, read back by the S3 event job and the garbage collector. */
import { describe, expect, it } from 'vitest';
import { BLOB_PREFIX, blobKeyOfId, legacyBlobKey, parseBlobKey, uploadKey, uploadNonce } from '../../../contract/keys.ts';

const SHA = 'ab'.repeat(32);

describe('blob keys', () => {
  it('round-trips a digest and its record id through an upload\'s own key', () => {
    const nonce = uploadNonce();
    const key = uploadKey(SHA, nonce);
    expect(key).toBe(`blobs/sha256/${SHA}/${nonce}`);
    expect(key.startsWith(BLOB_PREFIX)).toBe(true);
    expect(parseBlobKey(key)).toEqual({ sha256: SHA, id: `${SHA}/${nonce}` });
    expect(blobKeyOfId(`${SHA}/${nonce}`)).toBe(key);
  });

  it('gives every upload a key of its own', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => uploadKey(SHA, uploadNonce())));
    expect(keys.size).toBe(1000);
    for (const key of keys) expect(parseBlobKey(key)?.sha256).toBe(SHA);
  });

  it('still reads a legacy key (blobs/sha256/<hex>): its record id is the digest', () => {
    expect(legacyBlobKey(SHA)).toBe(`blobs/sha256/${SHA}`);
    expect(parseBlobKey(legacyBlobKey(SHA))).toEqual({ sha256: SHA, id: SHA });
    expect(blobKeyOfId(SHA)).toBe(legacyBlobKey(SHA));
  });

  it.each([
    ['another prefix', `other/sha256/${SHA}`],
    ['upper-case hex', `blobs/sha256/${SHA.toUpperCase()}`],
    ['a short digest', `blobs/sha256/${SHA.slice(1)}`],
    ['a short nonce', `blobs/sha256/${SHA}/x`],
    ['a nonce with a slash', `blobs/sha256/${SHA}/${'a'.repeat(11)}/${'a'.repeat(10)}`],
    ['a deeper key', `blobs/sha256/${SHA}/${'a'.repeat(22)}/x`],
    ['an empty nonce', `blobs/sha256/${SHA}/`],
    ['the prefix alone', BLOB_PREFIX],
  ])('names no blob: %s', (_what, key) => {
    expect(parseBlobKey(key)).toBeUndefined();
  });
});
