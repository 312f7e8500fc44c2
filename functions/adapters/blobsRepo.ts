/** Blob items: one per SHA-256 whose bytes the service verified (R-STORE dedup: `present`). */
import { batchGet, batchPut, tables, type Item } from './dynamo.ts';

const BATCH = 100;

export const verifiedIn = (items: readonly Item[]): string[] =>
  items.filter((i) => typeof i.sha256 === 'string' && i.verifiedAt !== undefined).map((i) => String(i.sha256));

/** The digests among `sha256s` whose blobs are verified. */
export async function verifiedBlobs(sha256s: readonly string[]): Promise<Set<string>> {
  const distinct = [...new Set(sha256s)];
  const verified = new Set<string>();
  for (let i = 0; i < distinct.length; i += BATCH) {
    const found = await batchGet({ [tables.blobs]: { Keys: distinct.slice(i, i + BATCH).map((sha256) => ({ sha256 })) } });
    for (const sha of verifiedIn(found[tables.blobs] ?? [])) verified.add(sha);
  }
  return verified;
}

export async function markVerified(blobs: readonly { sha256: string; size: number }[], at: string): Promise<void> {
  const distinct = [...new Map(blobs.map((b) => [b.sha256, b])).values()];
  await batchPut(tables.blobs, distinct.map((b) => ({ sha256: b.sha256, size: b.size, verifiedAt: at })));
}
