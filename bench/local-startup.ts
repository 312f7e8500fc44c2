/**
 * Local mode start-up: wall time from spawning `npm start`'s entry until `GET /v1/health` answers 200, on a
 * fresh data folder and again on the same folder (tables and token already there), and the time to stop on
 * SIGINT. Prints the load average beside it: DynamoDB Local's JVM dominates and is CPU-bound.
 *
 *   npx tsx bench/local-startup.ts [runs=3]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { median } from './stats.ts';

const RUNS = Number(process.argv[2] ?? 3);
const ROOT = path.resolve(import.meta.dirname, '..');
// As `npm start` runs it: tsx as an in-process loader. (The tsx CLI relays Ctrl+C to a child process with a
// 30 ms handshake that a loaded machine misses, and then exits 130.)
const START = ['--import', 'tsx', 'local/main.ts'];

async function once(dataDir: string): Promise<{ healthy: number; stopped: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, START, {
    cwd: ROOT,
    env: { ...process.env, ARCA_DATA_DIR: dataDir, ARCA_PORT: '0', POWERTOOLS_LOG_LEVEL: 'WARN', PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  let url: string | undefined;
  while (!url) {
    if (child.exitCode !== null) throw new Error(`local mode exited with ${child.exitCode}:\n${output}`);
    url = /running at (http:\/\/\S+)/.exec(output)?.[1];
    await new Promise((r) => setTimeout(r, 20));
  }
  while ((await fetch(`${url}/v1/health`).then((r) => r.status, () => 0)) !== 200) await new Promise((r) => setTimeout(r, 20));
  const healthy = performance.now() - started;
  const stopping = performance.now();
  child.kill('SIGINT');
  const code = await exited;
  if (code !== 0) throw new Error(`local mode stopped with code ${code}`);
  return { healthy, stopped: performance.now() - stopping };
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const fresh: number[] = [];
const again: number[] = [];
const stops: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const dir = await mkdtemp(path.join(tmpdir(), 'arca-bench-start-'));
  try {
    const first = await once(dir);
    const second = await once(dir);
    fresh.push(first.healthy);
    again.push(second.healthy);
    stops.push(first.stopped, second.stopped);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
console.log(`local mode start-up over ${RUNS} runs (${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)})`);
console.log(`  fresh data folder → health 200:    median ${s(median(fresh))}  (${fresh.map(s).join(', ')})`);
console.log(`  existing data folder → health 200: median ${s(median(again))}  (${again.map(s).join(', ')})`);
console.log(`  SIGINT → exited:                   median ${s(median(stops))}`);
