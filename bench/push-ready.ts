/**
 * Push through local mode, last part → `ready` (issue 11): `arca push` of a fresh random file (default 1 GiB,
 * `ARCA_BENCH_MIB`) against one local registry, `ARCA_BENCH_RUNS` times (default 5), each push in its own process
 * (bench/transfer-client.ts). Push reports when each phase began: `commit` starts once the last part is stored,
 * `done` when the version is ready, so their difference is what the service takes to complete the upload and
 * verify the file. Then the same for as many 1 MiB files (one PUT, hashed by commit): the floor that commit's own
 * requests (DynamoDB Local, the durability barrier) set at the moment's load. Prints min / median / max with the
 * load average.
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
import { spreadOf, type Spread } from './stats.ts';

const MIB = 1024 * 1024;
const SIZE = Number(process.env.ARCA_BENCH_MIB ?? 1024) * MIB;
const RUNS = Number(process.env.ARCA_BENCH_RUNS ?? 5);
const CLIENT = join(import.meta.dirname, 'transfer-client.ts');

function writeRandomFile(path: string, size: number): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(16 * MIB);
  for (let written = 0; written < size; written += chunk.length) writeSync(fd, randomFillSync(chunk), 0, Math.min(chunk.length, size - written));
  closeSync(fd);
}


async function main(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const work = await mkdtemp(join(tmpdir(), 'arca-push-ready-'));
  const registry = await startLocal({ dataDir: join(work, 'registry'), port: 0, inMemory: true });
  const ready: number[] = [];
  const upload: number[] = [];
  const floor: number[] = [];
  const loads: number[] = [];
  let run = 0;
  /** One push of a fresh file of `size` bytes: seconds of its upload phase and from its last part to ready. */
  const push = async (size: number) => {
    const file = join(work, 'file.bin');
    writeRandomFile(file, size);
    loads.push(loadavg()[0]!);
    const { stdout } = await promisify(execFile)(process.execPath, [CLIENT, 'arca-push', registry.url, registry.token, file, join(work, `cache-${++run}`)]);
    await rm(file);
    const { phases } = JSON.parse(/^\{"phases".*$/m.exec(stdout)![0]) as { phases: Record<'upload' | 'commit' | 'done', number> };
    return { upload: phases.commit - phases.upload, ready: phases.done - phases.commit };
  };
  try {
    for (let i = 1; i <= RUNS; i++) {
      const r = await push(SIZE);
      upload.push(r.upload);
      ready.push(r.ready);
      process.stderr.write(`run ${i}: upload ${r.upload.toFixed(2)} s, last part → ready ${r.ready.toFixed(2)} s (load ${loads.at(-1)!.toFixed(1)})\n`);
    }
    for (let i = 1; i <= RUNS; i++) floor.push((await push(MIB)).ready);
  } finally {
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
  const fmt = ({ min, median, max }: Spread) => `${min.toFixed(2)} / ${median.toFixed(2)} / ${max.toFixed(2)} s`;
  const l = spreadOf(loads);
  console.log(`\narca push of ${SIZE / MIB} MiB through local mode, ${RUNS} runs (min / median / max), load average ${l.min.toFixed(1)}–${l.max.toFixed(1)}`);
  console.log(`  upload phase:         ${fmt(spreadOf(upload))}`);
  console.log(`  last part → ready:    ${fmt(spreadOf(ready))}`);
  console.log(`  1 MiB, commit → ready: ${fmt(spreadOf(floor))}`);
}

await main();
