/**
 * Push through local mode, last part → `ready` (issue 11): `arca push` of a fresh random file (default 1 GiB,
 * `ARCA_BENCH_MIB`) against one local registry, `ARCA_BENCH_RUNS` times (default 5), each push in its own process
 * (bench/transfer-client.ts). Push reports when each phase began: `commit` starts once the last part is stored,
 * `done` when the version is ready, so their difference is what the service takes to complete the upload and
 * verify the file. Prints min / median / max with the load average.
 *
 *   npx tsx bench/push-ready.ts
 *   ARCA_BENCH_MIB=256 ARCA_BENCH_RUNS=7 npx tsx bench/push-ready.ts
 */
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startLocal } from '../local/server.ts';

const MIB = 1024 * 1024;
const SIZE = Number(process.env.ARCA_BENCH_MIB ?? 1024) * MIB;
const RUNS = Number(process.env.ARCA_BENCH_RUNS ?? 5);
const CLIENT = join(import.meta.dirname, 'transfer-client.ts');

function writeRandomFile(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(16 * MIB);
  for (let written = 0; written < SIZE; written += chunk.length) writeSync(fd, randomFillSync(chunk), 0, Math.min(chunk.length, SIZE - written));
  closeSync(fd);
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s.at(-1)! };
};

async function main(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const work = await mkdtemp(join(tmpdir(), 'arca-push-ready-'));
  const registry = await startLocal({ dataDir: join(work, 'registry'), port: 0, inMemory: true });
  const ready: number[] = [];
  const upload: number[] = [];
  const loads: number[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      const file = join(work, 'file.bin');
      writeRandomFile(file);
      loads.push(loadavg()[0]!);
      const { stdout } = await promisify(execFile)(process.execPath, [CLIENT, 'arca-push', registry.url, registry.token, file, join(work, `cache-${run}`)]);
      const { phases } = JSON.parse(/^\{"phases".*$/m.exec(stdout)![0]) as { phases: Record<'upload' | 'commit' | 'done', number> };
      ready.push(phases.done - phases.commit);
      upload.push(phases.commit - phases.upload);
      process.stderr.write(`run ${run}: upload ${upload.at(-1)!.toFixed(2)} s, last part → ready ${ready.at(-1)!.toFixed(2)} s (load ${loads.at(-1)!.toFixed(1)})\n`);
      await rm(file);
    }
  } finally {
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
  const fmt = ({ min, median, max }: ReturnType<typeof stats>) => `${min.toFixed(2)} / ${median.toFixed(2)} / ${max.toFixed(2)} s`;
  const l = stats(loads);
  console.log(`\narca push of ${SIZE / MIB} MiB through local mode, ${RUNS} runs (min / median / max), load average ${l.min.toFixed(1)}–${l.max.toFixed(1)}`);
  console.log(`  upload phase:         ${fmt(stats(upload))}`);
  console.log(`  last part → ready:    ${fmt(stats(ready))}`);
}

await main();
