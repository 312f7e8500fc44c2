/** Blob keys (contract/keys.ts): written by the service, read back by the S3 event job and the garbage collector. */
import { describe, expect, it } from 'vitest';
import { BLOB_PREFIX, blobKey, parseBlobKey } from '../../../contract/keys.ts';

const SHA = 'ab'.repeat(32);

describe('blob keys', () => {
  it('round-trips a digest through its key', () => {
    expect(blobKey(SHA)).toBe(`blobs/sha256/${SHA}`);
    expect(blobKey(SHA).startsWith(BLOB_PREFIX)).toBe(true);
    expect(parseBlobKey(blobKey(SHA))).toBe(SHA);
  });

  it.each([
    ['another prefix', `other/sha256/${SHA}`],
    ['upper-case hex', `blobs/sha256/${SHA.toUpperCase()}`],
    ['a short digest', `blobs/sha256/${SHA.slice(1)}`],
    ['a longer key', `blobs/sha256/${SHA}/x`],
    ['the prefix alone', BLOB_PREFIX],
  ])('names no blob: %s', (_what, key) => {
    expect(parseBlobKey(key)).toBeUndefined();
  });
});
