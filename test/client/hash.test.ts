import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partSizeFor } from '../../functions/domain/files.ts';
import { hashFile } from '../../client/hash.ts';
import { parseSize } from '../../client/cache.ts';

const MIB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'arca-hash-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('hashFile (one pass, whole file and parts)', () => {
  it('hashes a small file; its single part is the file digest', async () => {
    const bytes = Buffer.from('hello arca\n');
    await writeFile(join(dir, 'small'), bytes);
    expect(await hashFile(join(dir, 'small'), bytes.length)).toEqual({ size: bytes.length, sha256: sha(bytes) });
    expect(await hashFile(join(dir, 'small'), bytes.length, { withParts: true })).toEqual({ size: bytes.length, sha256: sha(bytes), parts: [sha(bytes)] });
  });

  it('hashes each part of a file above one part size, split at the R-UPLOAD part size', async () => {
    const size = 70 * MIB + 12_345;
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4096) bytes.writeUInt32LE(i, i);
    await writeFile(join(dir, 'big'), bytes);
    let seen = 0;
    const d = await hashFile(join(dir, 'big'), size, { withParts: true, onBytes: (n) => (seen += n) });
    const ps = partSizeFor(size);
    expect(ps).toBe(64 * MIB);
    expect(d).toEqual({ size, sha256: sha(bytes), parts: [sha(bytes.subarray(0, ps)), sha(bytes.subarray(ps))] });
    expect(seen).toBe(size);
  });

  it('fails when the file is not the size it was declared with (it changed under us)', async () => {
    await writeFile(join(dir, 'changed'), 'abc');
    await expect(hashFile(join(dir, 'changed'), 4)).rejects.toThrow(/changed while it was read/);
  });
});

describe('part size rule (R-UPLOAD), shared with the service', () => {
  it.each([
    [0, 64 * MIB],
    [64 * MIB, 64 * MIB],
    [1024 * 64 * MIB, 64 * MIB], // 64 GiB / 10000 = 6.6 MiB: the 64 MiB floor
    [1024 * 1024 * MIB, 105 * MIB], // 1 TiB: ceil(1048576 / 10000) = 105 MiB
    [5 * 1024 * 1024 * MIB, 525 * MIB], // 5 TiB: ceil(5242880 / 10000) = 525 MiB, 9,987 parts
  ])('size %d → part size %d', (size, expected) => {
    expect(partSizeFor(size)).toBe(expected);
    expect(Math.ceil(size / expected)).toBeLessThanOrEqual(10_000);
  });
});

describe('parseSize (cache prune --max-size)', () => {
  it.each([
    ['1024', 1024],
    ['500M', 500 * MIB],
    ['10G', 10 * 1024 * MIB],
    ['1.5GiB', 1.5 * 1024 * MIB],
    ['2tb', 2 * 1024 * 1024 * MIB],
  ])('%s → %d bytes', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  it('refuses what is not a size', () => expect(() => parseSize('ten gigs')).toThrow(/not a size/));
});
