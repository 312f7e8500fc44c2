/**
 * Event latency in local mode: from the API's answer to an alias move until the signed `Alias Updated`
 * webhook arrives at a loopback receiver (DynamoDB Local stream poll → outbox → delivery), and how long a
 * delivery that fails twice takes to land with a short retry base.
 *
 *   npx tsx bench/events-latency.ts [moves=40]
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ArcaClient } from '../client/client.ts';
import { verifyWebhook } from '../client/webhooks.ts';
import { ENV } from '../contract/env.ts';
import type { WebhookPayload } from '../contract/events.ts';
import { startLocal } from '../local/server.ts';

const MOVES = Number(process.argv[2] ?? 40);
const RETRY_BASE_SECONDS = 0.25;

const dir = await mkdtemp(path.join(tmpdir(), 'arca-bench-events-'));
const registry = await startLocal({
  dataDir: dir,
  port: 0,
  inMemory: true,
  env: { [ENV.hookRetryBaseSeconds]: String(RETRY_BASE_SECONDS) },
});
const client = new ArcaClient({ url: registry.url, token: registry.token, cacheDir: path.join(dir, 'cache') });

const waiting = new Map<string, (at: number) => void>();
const failFirst = new Map<string, number>();
let badSignatures = 0;
let secret = '';
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString('utf8')));
  req.on('end', () => {
    const at = performance.now();
    if (!verifyWebhook(secret, req.headers, body)) badSignatures++;
    const payload = JSON.parse(body) as WebhookPayload;
    const key = `${payload.detail.asset}|${payload.detail.version}|${payload.detail.alias}`;
    const failures = failFirst.get(payload.detail.asset) ?? 0;
    if (failures > 0) {
      failFirst.set(payload.detail.asset, failures - 1);
      res.statusCode = 500;
    } else {
      waiting.get(key)?.(at);
      waiting.delete(key);
    }
    res.end();
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;

async function hook(events: string[], assetPrefix: string): Promise<string> {
  const res = await fetch(`${registry.url}/v1/hooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${registry.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: receiverUrl, events, assetPrefix }),
  });
  if (res.status !== 201) throw new Error(`hook registration answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { secret: string }).secret;
}

const arrival = (key: string) => new Promise<number>((resolve) => waiting.set(key, resolve));
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

try {
  const name = 'bench/events';
  secret = await hook(['Alias Updated'], name);
  const file = path.join(dir, 'model.pkl');
  await writeFile(file, randomBytes(1024));
  await client.push(name, [file], { version: '1.0.0' });
  await writeFile(file, randomBytes(1024));
  await client.push(name, [file], { version: '1.1.0' });

  const latencies: number[] = [];
  for (let i = 0; i < MOVES; i++) {
    const version = i % 2 === 0 ? '1.0.0' : '1.1.0';
    const arrived = arrival(`${name}|${version}|production`);
    await client.setAlias(name, 'production', version);
    const answered = performance.now();
    latencies.push((await arrived) - answered);
  }

  const flaky = 'bench/flaky';
  secret = await hook(['Alias Updated'], flaky);
  await writeFile(file, randomBytes(1024));
  await client.push(flaky, [file], { version: '1.0.0' });
  failFirst.set(flaky, 2);
  const arrived = arrival(`${flaky}|1.0.0|production`);
  await client.setAlias(flaky, 'production', '1.0.0');
  const answered = performance.now();
  const retried = (await arrived) - answered;

  console.log(`alias move → signed webhook received, ${MOVES} moves (local mode, stream poll every 200 ms):`);
  console.log(`  median ${percentile(latencies, 50).toFixed(0)} ms · p90 ${percentile(latencies, 90).toFixed(0)} ms · max ${Math.max(...latencies).toFixed(0)} ms`);
  console.log(`receiver failing twice (500, 500, 200) with retry base ${RETRY_BASE_SECONDS} s: delivered after ${retried.toFixed(0)} ms`);
  console.log(`signatures that failed verification: ${badSignatures}`);
} finally {
  client.close();
  receiver.close();
  await registry.stop();
  await rm(dir, { recursive: true, force: true });
}
