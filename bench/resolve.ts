/**
 * Resolve latency against the number of live versions (R-SPEC): the read handler on DynamoDB Local, an
 * asset with 1,000 live versions beside one with 30 (one in ten published: 1.3.0, 1.13.0, …), the same specs
 * in the same run, each with and without `stage=published`. Each run times `REPEAT` resolves per spec
 * (interleaved) and keeps their median; the table shows min / median / max of those medians over `RUNS`
 * runs, and the 1,000 : 30 ratio of the medians.
 *
 *   npx tsx bench/resolve.ts [runs=7]
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { assetWithVersions } from '../test/fixtures/manyVersions.ts';
import { startService } from '../test/fixtures/service.ts';
import { median, spread } from './stats.ts';

const RUNS = Math.max(5, Number(process.argv[2] ?? 7));
const REPEAT = 21;
const SHA = 'b'.repeat(64);
const SPECS = { range: ':^1.0.0', 'bounded range': ':>=1.3.0 <1.9.0', 'pre-release range, narrow': ':>=1.20.0-0 <1.25.0',
  'pre-release range, wide': ':>=1.0.0-0',
  latest: '', exact: ':1.3.0' };
const STAGES = { '': '', 'stage=published': '?stage=published' };
const isPublished = (version: string) => Number(version.split('.')[1]) % 10 === 3;

const svc = await startService();
try {
  const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
  const { ddb } = await import('../functions/adapters/dynamo.ts');
  await ddb.send(new PutCommand({ TableName: svc.dynamo.tables.blobs, Item: { sha256: SHA, size: 3, verifiedAt: new Date().toISOString() } }));
  const sizes = [30, 1000] as const;
  for (const n of sizes) await assetWithVersions(svc, `bench/v${n}`, Array.from({ length: n }, (_, i) => `1.${i}.0`), SHA, isPublished);
  const rows = Object.entries(SPECS).flatMap(([label, spec]) =>
    Object.entries(STAGES).map(([stage, query]) => ({ label: stage ? `${label}, ${stage}` : label, spec, path: `${spec}${query}` })),
  );

  const medians = new Map<string, number[]>();
  for (let run = 0; run < RUNS; run++) {
    const times = new Map<string, number[]>();
    for (let r = 0; r < REPEAT; r++) {
      for (const { label, path } of rows) {
        for (const n of sizes) {
          const t0 = performance.now();
          const res = await svc.call('GET', `/v1/resolve/bench/v${n}${path}`);
          const ms = performance.now() - t0;
          if (res.status !== 200) throw new Error(`bench/v${n}${path}: ${res.status} ${JSON.stringify(res.body)}`);
          const key = `${label}|${n}`;
          times.set(key, [...(times.get(key) ?? []), ms]);
        }
      }
    }
    for (const [key, xs] of times) medians.set(key, [...(medians.get(key) ?? []), median(xs)]);
  }

  console.log(`resolve, ms per request (min / median / max of ${RUNS} run medians, ${REPEAT} requests each); ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1)}`);
  console.log('| spec | 30 versions | 1,000 versions | 1,000 : 30 |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const { label, spec } of rows) {
    const small = medians.get(`${label}|30`) ?? [];
    const large = medians.get(`${label}|1000`) ?? [];
    console.log(`| ${label} (\`${spec || 'name'}\`) | ${spread(small, 1)} | ${spread(large, 1)} | ${(median(large) / median(small)).toFixed(2)}× |`);
  }
} finally {
  await svc.stop();
}
