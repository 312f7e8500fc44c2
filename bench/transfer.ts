/**
 * Transfer benchmark (issues 5, 11): one file (default 1 GiB, `ARCA_BENCH_MIB` to change) up and down, side by
 * side in one run, `ARCA_BENCH_RUNS` rounds (default 5) of every tool, against
 *   - a do-nothing S3 sink (bench/transfer-sink.ts, its own process): the loopback ceiling, measured with curl;
 *   - the local S3 stand-in (local mode: s3rver, with Arca's verifying front on Arca's own path);
 * for `arca` (ArcaClient push/pull from this clone's sources, and `arca pull -o` of the packed package installed as a
 * user gets it), the Python SDK (bench/transfer_client.py), `@aws-sdk/lib-storage` Upload with defaults (GetObject for
 * downloads) and `aws s3 cp` when awscli is installed. Each client runs in its own process under /usr/bin/time:
 * MiB/s (wall clock, process start to exit) and CPU seconds per GiB as min / median / max over the rounds,
 * the largest peak RSS, and the median's ratio to the ceiling's median; the load average while it ran.
 * Every round writes fresh bytes for the stand-in (else a second arca push would find them stored and send
 * nothing), and each tool's output is deleted as soon as it is measured. Then the CLI's cold start.
 *
 *   npx tsx bench/transfer.ts          (writes bench/out/transfer.json too)
 *   ARCA_BENCH_MIB=256 ARCA_BENCH_RUNS=3 ARCA_BENCH_TARGETS=stand-in npx tsx bench/transfer.ts   (smaller, one target)
 *   ARCA_BENCH_TOOLS='arca pull,arca pull (installed CLI)' ARCA_BENCH_TARGETS=sink npx tsx bench/transfer.ts   (those rows alone;
 *     a stand-in pull needs its round's `arca push` listed too, the sink resolves any spec to its one file)
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream, openSync, writeSync, closeSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { UPSTREAM_TOKEN_HEADER } from '../local/s3-front.ts';
import { startLocal } from '../local/server.ts';
import { installPackage } from './installed.ts';
import { median, spreadOf, type Spread } from './stats.ts';

const MIB = 1024 * 1024;
const SIZE = Number(process.env.ARCA_BENCH_MIB ?? 1024) * MIB;
const RUNS = Math.max(1, Number(process.env.ARCA_BENCH_RUNS ?? 5));
const ROOT = join(import.meta.dirname, '..');
const NODE = process.execPath;
const CLIENT = join(ROOT, 'bench', 'transfer-client.ts');
const PY_CLIENT = join(ROOT, 'bench', 'transfer_client.py');
/** The Python SDK's rows need a Python with `arca` installed (`pip install ./python`): ARCA_BENCH_PYTHON, else python3. */
const python = ((cmd: string) => {
  try {
    execFileSync(cmd, ['-c', 'import arca'], { stdio: 'ignore' });
    return cmd;
  } catch {
    process.stderr.write(`bench: ${cmd} cannot import arca (pip install ./python): no Python rows\n`);
    return undefined;
  }
})(process.env.ARCA_BENCH_PYTHON ?? 'python3');

interface Row {
  direction: 'upload' | 'download';
  target: 'sink' | 'stand-in';
  tool: string;
  seconds: number;
  mibPerS: number;
  cpuSecondsPerGiB: number;
  peakRssMiB: number;
  /** arca only: seconds from process start at which each phase began (hash, upload, commit, done). */
  phases?: Record<string, number>;
  /** The 1-minute load average when the run started. */
  load: number;
}

/** One tool against one target over every round. */
interface Summary {
  direction: Row['direction'];
  target: Row['target'];
  tool: string;
  runs: number;
  mibPerS: Spread;
  cpuSecondsPerGiB: Spread;
  peakRssMiB: number;
  ratioToCeiling?: number;
  /** The phases of the run with the median speed. */
  phases?: Record<string, number>;
}

function which(cmd: string): string | undefined {
  try {
    return execFileSync('which', [cmd], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Runs a command under /usr/bin/time; returns wall seconds, user+sys CPU seconds and peak RSS in KiB. */
async function timed(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ seconds: number; cpu: number; rssKiB: number; stdout: string }> {
  const timeFile = join(tmpdir(), `arca-bench-time-${process.pid}`);
  let stdout = '';
  await new Promise<void>((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`))));
  });
  const [e, u, s, m] = (await readFile(timeFile, 'utf8')).trim().split(/\s+/).slice(-4).map(Number) as [number, number, number, number];
  return { seconds: e, cpu: u + s, rssKiB: m, stdout };
}

async function makeFile(path: string): Promise<string> {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(16 * MIB);
  for (let written = 0; written < SIZE; written += chunk.length) {
    randomFillSync(chunk);
    writeSync(fd, chunk, 0, Math.min(chunk.length, SIZE - written));
  }
  closeSync(fd);
  const hash = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 4 * MIB })) hash.update(c as Buffer);
  return hash.digest('hex');
}

async function startSink(file: string, sha256: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(NODE, [join(ROOT, 'bench', 'transfer-sink.ts'), file, sha256], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`sink exited ${code}`)));
  });
  return { url: (JSON.parse(line) as { url: string }).url, stop: () => child.kill() };
}

/**
 * A plain forwarding hop to local mode's store that adds the store's token: s3rver answers only requests that
 * carry it (local mode's own clients), and awscli cannot add a header. The peers pay one loopback hop, as
 * `arca push` pays the verifying front.
 */
async function storeHop(storeUrl: string, token: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const upstream = new URL(storeUrl);
  const server = createServer((req, res) => {
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, [UPSTREAM_TOKEN_HEADER]: token } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Rows of the same tool and target, in the order first run. */
function summarize(rows: Row[]): Summary[] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) groups.set(`${r.direction} ${r.target} ${r.tool}`, [...(groups.get(`${r.direction} ${r.target} ${r.tool}`) ?? []), r]);
  const out: Summary[] = [...groups.values()].map((g) => {
    const speed = spreadOf(g.map((r) => r.mibPerS));
    return {
      direction: g[0]!.direction,
      target: g[0]!.target,
      tool: g[0]!.tool,
      runs: g.length,
      mibPerS: speed,
      cpuSecondsPerGiB: spreadOf(g.map((r) => r.cpuSecondsPerGiB)),
      peakRssMiB: Math.max(...g.map((r) => r.peakRssMiB)),
      phases: g.find((r) => r.mibPerS === speed.median)?.phases,
    };
  });
  for (const r of out) {
    const ceiling = out.find((c) => c.direction === r.direction && c.tool.startsWith('ceiling'));
    if (ceiling) r.ratioToCeiling = r.mibPerS.median / ceiling.mibPerS.median;
  }
  return out;
}

async function coldStart(): Promise<{ nodeMs: number; arcaMs: number; arcaFirstMs: number; runs: number }> {
  const runs = 15;
  const time = async (args: string[], env: Record<string, string> = {}) => (await timed(NODE, args, env)).seconds * 1000;
  const arca = join(ROOT, 'client', 'cli', 'arca.js');
  const cacheDir = await mkdtemp(join(tmpdir(), 'arca-compile-cache-'));
  // The very first run fills Node's compile cache (type-stripped TypeScript and V8 code); later runs reuse it.
  const arcaFirstMs = await time([arca, '--version'], { NODE_COMPILE_CACHE: cacheDir });
  const node: number[] = [];
  const cli: number[] = [];
  for (let i = 0; i < runs; i++) {
    node.push(await time(['-e', '0']));
    cli.push(await time([arca, '--version'], { NODE_COMPILE_CACHE: cacheDir }));
  }
  await rm(cacheDir, { recursive: true, force: true });
  return { nodeMs: median(node), arcaMs: median(cli), arcaFirstMs, runs };
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'arca-bench-'));
  const file = join(work, 'file.bin');
  const rows: Row[] = [];
  const aws = which('aws');
  let registry: Awaited<ReturnType<typeof startLocal>> | undefined;
  let sink: Awaited<ReturnType<typeof startSink>> | undefined;
  let hop: Awaited<ReturnType<typeof storeHop>> | undefined;
  try {
    process.stderr.write(`bench: writing a ${SIZE / MIB} MiB random file…\n`);
    const sha256 = await makeFile(file);
    const only = process.env.ARCA_BENCH_TARGETS?.split(',');
    const tools = process.env.ARCA_BENCH_TOOLS?.split(',');
    const installed = !tools || tools.some((tool) => tool.startsWith('arca pull (installed CLI')) ? await installPackage(work) : undefined;
    sink = await startSink(file, sha256);
    if (!only || only.includes('stand-in')) registry = await startLocal({ dataDir: join(work, 'registry'), port: 0, inMemory: true });
    const credentials = registry?.credentials ?? { accessKeyId: 'bench', secretAccessKey: 'bench' };
    const s3env = { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-east-1' };
    let n = 0;
    let outputs: string[] = [];
    const fresh = async () => {
      const d = join(work, `run-${++n}`);
      await mkdir(d, { recursive: true });
      outputs.push(d);
      return d;
    };

    const record = async (direction: Row['direction'], target: Row['target'], tool: string, cmd: string, args: string[], env: Record<string, string> = {}) => {
      if (tools && !tools.includes(tool)) return undefined;
      process.stderr.write(`bench: ${direction} ${target} ${tool}…\n`);
      const load = loadavg()[0]!;
      const t = await timed(cmd, args, { ...s3env, ...env });
      const report = /^\{"phases".*$/m.exec(t.stdout)?.[0];
      const { phases, version } = report ? (JSON.parse(report) as { phases: Record<string, number>; version?: string }) : { phases: undefined, version: undefined };
      rows.push({
        direction,
        target,
        tool,
        seconds: t.seconds,
        mibPerS: SIZE / MIB / t.seconds,
        cpuSecondsPerGiB: t.cpu / (SIZE / 1024 / MIB),
        peakRssMiB: t.rssKiB / 1024,
        phases,
        load,
      });
      // A GiB left behind per run would crowd the page cache the next tool writes into.
      for (const d of outputs) await rm(d, { recursive: true, force: true });
      outputs = [];
      return version;
    };

    const targets: { target: Row['target']; api: string; token: string; s3: string; bucket: string }[] = [{ target: 'sink', api: sink.url, token: 'sink', s3: sink.url, bucket: 'bench' }];
    if (registry) {
      hop = await storeHop(registry.s3StoreUrl, registry.s3StoreToken);
      targets.push({ target: 'stand-in', api: registry.url, token: registry.token, s3: hop.url, bucket: registry.bucket });
    }
    for (let round = 1; round <= RUNS; round++) {
      process.stderr.write(`bench: round ${round} of ${RUNS}\n`);
      for (const t of targets.filter((x) => !only || only.includes(x.target))) {
        // The sink serves the bytes it loaded at start; the stand-in stores what it is sent, so it gets new bytes each round.
        if (t.target === 'stand-in' && round > 1) await makeFile(file);
        if (t.target === 'sink') await record('upload', 'sink', 'ceiling (curl -T)', 'curl', ['-sf', '-T', file, `${t.s3}/bench/ceiling`]);
        const spec = `bench/file:${(await record('upload', t.target, 'arca push', NODE, [CLIENT, 'arca-push', t.api, t.token, file, await fresh()])) ?? '1.0.0'}`;
        // On the stand-in the bytes are stored by then (arca push): a Python push would send nothing, so only the sink.
        if (python && t.target === 'sink') await record('upload', t.target, 'python arca push', python, [PY_CLIENT, 'python-push', t.api, t.token, file, await fresh()]);
        await record('upload', t.target, 'lib-storage Upload', NODE, [CLIENT, 'sdk-upload', t.s3, t.bucket, 'bench/lib-storage', file]);
        if (aws) await record('upload', t.target, 'aws s3 cp', aws, ['s3', 'cp', '--quiet', '--endpoint-url', t.s3, file, `s3://${t.bucket}/bench/awscli`]);

        if (t.target === 'sink') await record('download', 'sink', 'ceiling (curl -o)', 'curl', ['-sf', '-o', join(await fresh(), 'f'), `${t.s3}/bench/ceiling`]);
        await record('download', t.target, 'arca pull', NODE, [CLIENT, 'arca-pull', t.api, t.token, spec, await fresh(), await fresh()]);
        if (installed) {
          const env = { ARCA_URL: t.api, ARCA_TOKEN: t.token, ARCA_CACHE_DIR: await fresh(), ARCA_CONFIG: join(work, 'no-config.json') };
          await record('download', t.target, 'arca pull (installed CLI)', NODE, [installed.arca, 'pull', spec, '-o', await fresh()], env);
          // One file written, as awscli and GetObject write: the blob lands in the cache alone.
          await record('download', t.target, 'arca pull (installed CLI) to the cache only', NODE, [installed.arca, 'pull', spec], { ...env, ARCA_CACHE_DIR: await fresh() });
        }
        if (python) await record('download', t.target, 'python arca pull', python, [PY_CLIENT, 'python-pull', t.api, t.token, spec, await fresh(), await fresh()]);
        await record('download', t.target, 'GetObject to file', NODE, [CLIENT, 'sdk-download', t.s3, t.bucket, 'bench/lib-storage', join(await fresh(), 'f')]);
        if (aws) await record('download', t.target, 'aws s3 cp', aws, ['s3', 'cp', '--quiet', '--endpoint-url', t.s3, `s3://${t.bucket}/bench/awscli`, join(await fresh(), 'f')]);
      }
    }
  } finally {
    sink?.stop();
    await hop?.stop();
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  }
  if (!which('aws')) process.stderr.write('bench: awscli not found (`which aws`): aws s3 cp rows skipped\n');

  const start = await coldStart();
  const fmt = (x: number, d = 1) => x.toFixed(d);
  const loads = spreadOf(rows.map((r) => r.load));
  const summaries = summarize(rows);
  console.log(
    `\nTransfer of a ${SIZE / MIB} MiB file on loopback, ${RUNS} rounds (${new Date().toISOString()}, ${cpus().length} CPUs, load average ${fmt(loads.min)}–${fmt(loads.max)}, median ${fmt(loads.median)})\n`,
  );
  const lines = [
    '| direction | target | tool | MiB/s min / median / max | × ceiling | CPU s/GiB min / median / max | peak RSS MiB | phases of the median run (s from start) |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | --- |',
  ];
  const three = (x: Spread, d: number) => `${fmt(x.min, d)} / **${fmt(x.median, d)}** / ${fmt(x.max, d)}`;
  for (const r of summaries) {
    const phases = r.phases ? Object.entries(r.phases).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') : '';
    lines.push(`| ${r.direction} | ${r.target} | ${r.tool} | ${three(r.mibPerS, 0)} | ${r.ratioToCeiling === undefined ? '' : fmt(r.ratioToCeiling, 2)} | ${three(r.cpuSecondsPerGiB, 2)} | ${fmt(r.peakRssMiB, 0)} | ${phases} |`);
  }
  console.log(lines.join('\n'));
  console.log(`\nCLI cold start (median of ${start.runs}): node -e 0 ${fmt(start.nodeMs, 0)} ms · arca --version ${fmt(start.arcaMs, 0)} ms (first run, empty compile cache: ${fmt(start.arcaFirstMs, 0)} ms)`);
  await mkdir(join(ROOT, 'bench', 'out'), { recursive: true });
  await writeFile(join(ROOT, 'bench', 'out', 'transfer.json'), JSON.stringify({ sizeBytes: SIZE, runs: RUNS, load: loads, summaries, rows, coldStart: start }, null, 2));
}

await main();
