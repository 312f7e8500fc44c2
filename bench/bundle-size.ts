/**
 * Bundle size and cold import time of every deployed function, next to the same handler bundled with
 * CDK's `NodejsFunction` defaults (not minified, no source map, AWS SDK left to the runtime) but for the
 * output format: ESM with the banner's `require`, as the handlers use top-level await, which CommonJS lacks.
 *
 * Both variants are built by CDK itself (two synthesized apps under bench/out/), so the comparison is
 * with what `cdk deploy` would ship. Cold import = wall time of `await import(bundle)` in a fresh `node`
 * process, min / median / max over `runs` (variants interleaved); for the defaults the SDK comes from
 * node_modules, as it would from the runtime. The load average is printed with the figures.
 *
 *   npx tsx bench/bundle-size.ts [runs=7]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { FUNCTION_BUNDLING } from '../lib/registry.ts';
import { ArcaStack } from '../lib/stack.ts';
import { median, spread } from './stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Under the repository, so the default bundles resolve the SDK from node_modules like the runtime's copy.
const OUT = join(ROOT, 'bench', 'out', 'bundle-size');
const RUNS = Math.max(5, Number(process.argv[2] ?? 7));
const CDK_CONTEXT = (JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

interface Built {
  file: string;
  env: Record<string, string>;
}

function logicalId(element: CfnElement): string {
  const stack = Stack.of(element);
  return String(stack.resolve(stack.getLogicalId(element)));
}

/** The main file of each function's asset in a synthesized assembly, and its environment (tokens stubbed). */
function builtFunctions(assembly: CloudAssembly, stack: Stack, functions: Map<string, NodejsFunction>): Map<string, Built> {
  const template = assembly.getStackByName(stack.stackName).template as {
    Resources: Record<string, { Properties: { Code: { S3Key: string }; Environment?: { Variables: Record<string, unknown> } } }>;
  };
  return new Map(
    [...functions].map(([id, fn]) => {
      const props = template.Resources[logicalId(fn.node.defaultChild as CfnElement)]!.Properties;
      const dir = join(assembly.directory, `asset.${props.Code.S3Key.replace(/\.zip$/, '')}`);
      const file = ['index.mjs', 'index.js'].map((f) => join(dir, f)).find((f) => existsSync(f));
      if (!file) throw new Error(`no bundle in ${dir}`);
      const env = Object.fromEntries(
        Object.entries(props.Environment?.Variables ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : `bench-${k.toLowerCase()}`]),
      );
      return [id, { file, env }];
    }),
  );
}

function synthOurs(): { ours: Map<string, Built>; entries: Map<string, string> } {
  const app = new App({ outdir: join(OUT, 'ours'), context: CDK_CONTEXT });
  const stack = new ArcaStack(app, 'Arca');
  const assembly = app.synth();
  const entries = new Map([...stack.registry.functionOptions].map(([id, o]) => [id, o.entry]));
  return { ours: builtFunctions(assembly, stack, stack.registry.functions), entries };
}

function synthDefaults(entries: Map<string, string>, envs: Map<string, Built>): Map<string, Built> {
  const app = new App({ outdir: join(OUT, 'defaults'), context: CDK_CONTEXT });
  const stack = new Stack(app, 'Defaults');
  const functions = new Map(
    [...entries].map(([id, entry]) => [
      id,
      new NodejsFunction(stack, id, {
        entry: join(ROOT, entry),
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        depsLockFilePath: join(ROOT, 'package-lock.json'),
        projectRoot: ROOT,
        bundling: { format: OutputFormat.ESM, banner: FUNCTION_BUNDLING.banner },
      }),
    ]),
  );
  const built = builtFunctions(app.synth(), stack, functions);
  // Same environment as the deployed function, so module-load code takes the same path.
  for (const [id, b] of built) b.env = envs.get(id)?.env ?? {};
  return built;
}

interface ImportTime {
  /** Wall time of the import. */
  wall: number;
  /** CPU time (user + system) the import used: far less sensitive than wall time to a busy machine. */
  cpu: number;
}

/** Times importing `built.file` in a fresh node process. */
function importOnce(built: Built): ImportTime {
  const script =
    'const c = process.cpuUsage(); const t = performance.now(); ' +
    `await import(${JSON.stringify(pathToFileURL(built.file).href)}); ` +
    'const u = process.cpuUsage(c); process.stdout.write(JSON.stringify({ wall: performance.now() - t, cpu: (u.user + u.system) / 1000 }));';
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT', ...built.env },
    encoding: 'utf8',
  });
  return JSON.parse(out) as ImportTime;
}


/**
 * Cold import of each variant: wall time min / median / max, and the median CPU time. The variants take turns within every round, so a burst of load on
 * the machine lands on all of them rather than on whichever happened to be measuring.
 */
function coldImport(variants: Built[]): string[] {
  const times = variants.map(() => [] as ImportTime[]);
  for (let round = 0; round < RUNS; round++) {
    variants.forEach((_, k) => {
      const i = (k + round) % variants.length;
      times[i]!.push(importOnce(variants[i]!));
    });
  }
  return times.map((t) => `${spread(t.map((x) => x.wall))} ms (cpu ${median(t.map((x) => x.cpu)).toFixed(0)})`);
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

function size(built: Built): string {
  return `${kib(statSync(built.file).size)} (${kib(gzipSync(readFileSync(built.file)).length)})`;
}

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const { ours, entries } = synthOurs();
const defaults = synthDefaults(entries, ours);

console.log(`Node ${process.version}, ${RUNS} fresh processes per bundle and variant (wall time min / median / max, median CPU time); load ${loadavg()[0]?.toFixed(1)} at the start\n`);
console.log('| function | ours: size (gzip) | ours: cold import | ours with --enable-source-maps | CDK defaults: size (gzip) | CDK defaults: cold import |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [id, entry] of entries) {
  const built = ours.get(id)!;
  // What Node's own source maps would cost at every cold start (the bundles map a trace when it is formatted).
  const withSourceMaps = { ...built.env, NODE_OPTIONS: '--enable-source-maps' };
  const defaultBuilt = defaults.get(id)!;
  const [a, maps, b] = coldImport([built, { file: built.file, env: withSourceMaps }, defaultBuilt]);
  console.log(`| ${id} (\`${entry}\`) | ${size(built)} | ${a} | ${maps} | ${size(defaultBuilt)} + runtime SDK | ${b} |`);
}
console.log(`\nload ${loadavg()[0]?.toFixed(1)} at the end`);
