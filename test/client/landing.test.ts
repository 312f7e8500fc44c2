/**
 * The landing of a download: whatever order the ranges' chunks arrive in, the file holds the bytes at their
 * offsets and the digest is the SHA-256 of the whole file, each byte hashed once (from memory or read back).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Landing, type Segment } from '../../client/landing.ts';

const MIB = 1024 * 1024;
const bytes = Buffer.alloc(9 * MIB + 123);
for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE((i * 2654435761) >>> 0, Math.min(i, bytes.length - 4));
const sha = createHash('sha256').update(bytes).digest('hex');
let dir: string;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'arca-landing-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A deterministic shuffle (xorshift), so that a failure replays. */
function shuffled<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const j = (s >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Feeds each range's chunks in order, interleaving the ranges as `order` says, waiting whenever the landing asks. */
async function land(rangeSize: number, chunkSize: number, order: (segs: Segment[]) => Segment[]): Promise<{ digest: string; file: Buffer }> {
  const path = join(dir, `f${++n}`);
  const landing = await Landing.open(path, bytes.length, rangeSize);
  const turns = order(landing.segments.flatMap((s) => Array.from({ length: Math.ceil((s.end - s.start) / chunkSize) }, () => s)));
  for (const seg of turns) {
    const chunk = bytes.subarray(seg.arrived, Math.min(seg.end, seg.arrived + chunkSize));
    await landing.take(seg, Buffer.from(chunk));
  }
  const digest = await landing.digest();
  return { digest, file: await readFile(path) };
}

describe('Landing', () => {
  it.each([
    ['one range, in order', bytes.length, 64 * 1024, (t: Segment[]) => t],
    ['ranges in order', 2 * MIB, 64 * 1024, (t: Segment[]) => t],
    ['ranges last to first', 2 * MIB, 64 * 1024, (t: Segment[]) => [...t].sort((a, b) => b.start - a.start)],
    ['ranges interleaved at random', 2 * MIB, 64 * 1024, (t: Segment[]) => shuffled(t, 7)],
    ['odd chunk and range sizes, at random', 1_000_003, 10_007, (t: Segment[]) => shuffled(t, 42)],
  ])('%s: the file and its digest are right', async (_name, rangeSize, chunkSize, order) => {
    const { digest, file } = await land(rangeSize, chunkSize, order);
    expect(digest).toBe(sha);
    expect(file.equals(bytes)).toBe(true);
  });

  it('refuses bytes past a range’s end and a digest before every byte arrived', async () => {
    const landing = await Landing.open(join(dir, 'short'), 10, 4);
    const [first] = landing.segments;
    expect(() => landing.take(first!, Buffer.alloc(5))).toThrow(/past its end/);
    await landing.take(first!, Buffer.alloc(4));
    await expect(landing.digest()).rejects.toThrow(/incomplete/);
    await landing.close();
  });

  it('an empty file has the empty digest', async () => {
    const landing = await Landing.open(join(dir, 'empty'), 0, 4);
    expect(await landing.digest()).toBe(createHash('sha256').digest('hex'));
  });
});
