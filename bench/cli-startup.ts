/**
 * CLI start-up as a user meets it: the package packed and installed into an empty folder (as
 * test/integration/pack.test.ts does), then wall time from spawn to exit, min / median / max of N runs, on Node 24 (the
 * devDependency) and the system's Node 20, against `node -e 0` on the same Node:
 * - `arca --version` (commander only) and `arca ls` against a closed port (the SDK loaded, a refused
 *   connection answered at once), installed;
 * - the same from this clone's sources (type stripping on Node 24, tsx on Node 20);
 * - the first run with an empty compile cache (Node 24; Node 20 has no compile cache).
 *
 *   npx tsx bench/cli-startup.ts [runs=15]
 *
 * Issue 11's targets: installed `arca --version` ≤ 120 ms, beside `node -e 0` as its floor.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { installPackage } from './installed.ts';
import { spread } from './stats.ts';

const RUNS = Number(process.argv[2] ?? 15);
const ROOT = path.resolve(import.meta.dirname, '..');
const NODES = [
  ['Node 24', process.execPath],
  ['Node 20', '/usr/bin/node'],
].filter(([, node]) => existsSync(node!)) as [string, string][];

const dir = await mkdtemp(path.join(tmpdir(), 'arca-bench-cli-'));
try {
  const { app, arca: installed } = await installPackage(dir);
  const clone = path.join(ROOT, 'client', 'cli', 'arca.js');
  const cache = path.join(dir, 'compile-cache');

  const time = (node: string, args: string[], env: Record<string, string> = {}): number => {
    const started = performance.now();
    const r = spawnSync(node, args, { cwd: app, env: { PATH: process.env.PATH ?? '', HOME: dir, NODE_COMPILE_CACHE: cache, ...env }, stdio: 'ignore' });
    const ms = performance.now() - started;
    if (r.status === null) throw new Error(`${node} ${args.join(' ')} was killed`);
    return ms;
  };
  const runs = (node: string, args: string[]): string => {
    time(node, args); // warm the page cache and the compile cache
    return spread(Array.from({ length: RUNS }, () => time(node, args)));
  };
  // A port that was just free: connections to it are refused (fetch refuses low ports such as 1 outright).
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as { port: number }).port;
  await new Promise((r) => closed.close(r));
  const ls = ['ls', '--url', `http://127.0.0.1:${port}`, '--token', 'x'];

  console.log(`CLI start-up, ms, min / median / max of ${RUNS} runs; ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}`);
  console.log('| node | `node -e 0` | installed `--version` | installed `ls` | clone `--version` | clone `ls` | first run, empty cache |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [label, node] of NODES) {
    await rm(cache, { recursive: true, force: true });
    const first = Math.round(time(node, [installed, '--version'])).toString();
    const row = [runs(node, ['-e', '0']), runs(node, [installed, '--version']), runs(node, [installed, ...ls]), runs(node, [clone, '--version']), runs(node, [clone, ...ls]), first];
    console.log(`| ${label} | ${row.join(' | ')} |`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
