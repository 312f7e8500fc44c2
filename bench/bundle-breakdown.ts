/**
 * What each function's bundle is made of: esbuild's metafile of the same build the stack ships
 * (`esbuildOptions` of lib/registry.ts), bytes in the output grouped by package, largest first. The figures say which
 * dependency a bundle cut should go after; `bench/bundle-size.ts` measures the result.
 *
 *   npx tsx bench/bundle-breakdown.ts [entry.ts …] [--top N] [--tracing active|sdk|off]
 */
import { build } from 'esbuild';
import { TRACING_MODES, esbuildOptions, type RegistryTracing } from '../lib/registry.ts';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 12;
const tracingAt = args.indexOf('--tracing');
const tracing = (tracingAt >= 0 ? args.splice(tracingAt, 2)[1] : 'active') as RegistryTracing;
if (!TRACING_MODES.includes(tracing)) throw new Error(`--tracing must be one of ${TRACING_MODES.join(', ')}`);
const entries = args.length > 0 ? args : ['functions/api/read.ts', 'functions/api/write.ts', 'functions/jobs/finalize.ts', 'functions/events/stream.ts'];

const packageOf = (input: string): string => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.split('/').slice(0, 2).join('/');

for (const entry of entries) {
  const result = await build(esbuildOptions(entry, tracing));
  const output = Object.values(result.metafile.outputs)[0]!;
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + bytesInOutput);
  console.log(`\n${entry}: ${(output.bytes / 1024).toFixed(0)} KiB`);
  for (const [pkg, bytes] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(bytes / 1024).toFixed(0).padStart(6)} KiB  ${pkg}`);
}
