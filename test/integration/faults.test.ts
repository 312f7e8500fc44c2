/**
 * Nothing acknowledged is lost (issue 10): local mode (`npm start`, as a child process on one data folder) is
 * killed with SIGKILL — its whole process group, Node and DynamoDB Local's JVM — in the middle of a burst of
 * creates (assets, versions up to the 30-version cap, alias moves) and of a multipart push by the CLI, then
 * restarted on the same folder. After every restart: each write answered 2xx before the kill is there, each
 * asset's live-version count equals the live versions listed, each alias points at a live version (one of the
 * moves that could have been last), and at the end the killed push, run again, makes a ready version.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AliasRecord, AssetRecord, Page, VersionRecord } from '../../contract/schemas.ts';
import { spawnCli, type CliExit } from '../fixtures/cli.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const START = ['--import', 'tsx', 'local/main.ts'];
const MIB = 1024 * 1024;
const CAP = 30;
const FAULTS = 4;
const WORKERS = 6;
const CAP_WORKERS = 4;
const ALIASES = ['champion', 'candidate'];

let work = '';
const groups = new Set<number>();

afterAll(async () => {
  for (const pgid of groups) killGroup(pgid);
  if (work) await rm(work, { recursive: true, force: true });
});

interface Registry {
  child: ChildProcess;
  url: string;
  token: string;
  exited: Promise<unknown>;
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Local mode in its own process group, so one signal reaches Node and the JVM it spawned. */
async function start(dataDir: string): Promise<Registry> {
  const child = spawn(process.execPath, START, {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, ARCA_DATA_DIR: dataDir, ARCA_PORT: '0', POWERTOOLS_LOG_LEVEL: 'ERROR' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  groups.add(child.pid!);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 120_000;
  for (;;) {
    const m = /running at (http:\/\/\S+)[\s\S]*admin token: (\S+)/.exec(output);
    if (m) return { child, url: m[1]!, token: m[2]!, exited };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`local mode did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** kill -9 of the whole group; resolves once no process of it is left (the JVM's files are closed). */
async function kill9(registry: Registry): Promise<void> {
  const pgid = registry.child.pid!;
  killGroup(pgid);
  await registry.exited;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  groups.delete(pgid);
}

interface Reply<T> {
  status: number;
  body: T;
}

/** What a kill can do to a request: no answer at all (the connection dropped). */
class NoAnswer extends Error {}

function api(registry: Registry) {
  return async <T>(method: string, route: string, json?: unknown): Promise<Reply<T>> => {
    let res: Response;
    try {
      res = await fetch(`${registry.url}${route}`, {
        method,
        headers: { authorization: `Bearer ${registry.token}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
        body: json === undefined ? undefined : JSON.stringify(json),
      });
    } catch (error) {
      throw new NoAnswer(String(error));
    }
    const text = await res.text().catch(() => {
      throw new NoAnswer('body cut');
    });
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** Everything the registry acknowledged (a 2xx received before the kill). */
interface Ledger {
  assets: Set<string>;
  /** `asset@version` → whether its commit was answered 200 (then it must be ready). */
  versions: Map<string, boolean>;
  /** `asset#alias` → the versions it may point at (the last acknowledged move and any move still unanswered), and whether a move was acknowledged. */
  aliases: Map<string, { possible: Set<string>; acknowledged: boolean }>;
  acknowledged: number;
  /** Set just before the kill: from then on a refusal (a 500 from a dying process) ends a writer quietly. */
  killing: boolean;
}

/** A writer's answer that was not the expected 2xx: expected while the registry dies, a failure otherwise. */
function unexpected(ledger: Ledger, what: string, status: number): never {
  if (!ledger.killing) throw new Error(`${what} answered ${status} before the kill`);
  throw new NoAnswer(`${what}: ${status} while dying`);
}

/** Creates, uploads (single PUT) and commits one small version; records each acknowledged step. */
async function pushSmall(call: ReturnType<typeof api>, ledger: Ledger, asset: string, tag: string): Promise<string> {
  const bytes = Buffer.from(`${asset} ${tag} ${Math.random()}`);
  const created = await call<VersionRecord>('POST', `/v1/assets/${asset}/-/versions`, { files: [{ path: 'model.bin', size: bytes.length, sha256: sha256(bytes) }] });
  if (created.status !== 201) unexpected(ledger, 'create version', created.status);
  const version = created.body.version;
  ledger.versions.set(`${asset}@${version}`, false);
  ledger.acknowledged++;
  const file = created.body.files[0]!;
  if (file.state !== 'present') {
    try {
      const put = await fetch(file.upload!.url, { method: file.upload!.method, headers: file.upload!.headers, body: bytes });
      if (put.status !== 200) unexpected(ledger, 'upload', put.status);
    } catch {
      throw new NoAnswer('upload');
    }
  }
  const committed = await call<VersionRecord>('POST', `/v1/assets/${asset}/-/versions/${version}/commit`);
  if (committed.status !== 200) unexpected(ledger, 'commit', committed.status);
  ledger.versions.set(`${asset}@${version}`, true);
  ledger.acknowledged++;
  return version;
}

async function moveAlias(call: ReturnType<typeof api>, ledger: Ledger, asset: string, alias: string, version: string): Promise<void> {
  const key = `${asset}#${alias}`;
  const entry = ledger.aliases.get(key) ?? { possible: new Set<string>(), acknowledged: false };
  ledger.aliases.set(key, entry);
  entry.possible.add(version); // in flight: the kill may land after the move is written and before the answer
  const moved = await call('PUT', `/v1/assets/${asset}/-/aliases/${alias}`, { version });
  if (moved.status !== 200) unexpected(ledger, 'alias move', moved.status);
  ledger.aliases.set(key, { possible: new Set([version]), acknowledged: true });
  ledger.acknowledged++;
}

/** One writer: new assets, three versions each, alias moves between them; until the kill. */
async function writer(call: ReturnType<typeof api>, ledger: Ledger, id: string): Promise<void> {
  for (let n = 0; ; n++) {
    const asset = `faults/w${id}-${n}`;
    const created = await call('POST', '/v1/assets', { name: asset, type: 'model' });
    if (created.status !== 201) unexpected(ledger, 'create asset', created.status);
    ledger.assets.add(asset);
    ledger.acknowledged++;
    for (let v = 0; v < 3; v++) {
      await moveAlias(call, ledger, asset, ALIASES[v % 2]!, await pushSmall(call, ledger, asset, `v${v}`));
    }
  }
}

/** Several writers bumping versions of one asset until the cap refuses them. */
async function capWriter(call: ReturnType<typeof api>, ledger: Ledger, asset: string): Promise<void> {
  for (let i = 0; ; i++) {
    const bytes = Buffer.from(`${asset} cap ${i} ${Math.random()}`);
    const created = await call<VersionRecord>('POST', `/v1/assets/${asset}/-/versions`, { files: [{ path: 'w.bin', size: bytes.length, sha256: sha256(bytes) }] });
    const code = (created.body as unknown as { error?: { code?: string } }).error?.code;
    if (code === 'VersionCapReached') return;
    if (created.status === 409) continue; // contention on the asset item: try again
    if (created.status !== 201) unexpected(ledger, 'create version', created.status);
    ledger.versions.set(`${asset}@${created.body.version}`, false);
    ledger.acknowledged++;
  }
}

async function listAll<T>(call: ReturnType<typeof api>, route: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await call<Page<T>>('GET', `${route}?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(page.status).toBe(200);
    items.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return items;
}

/** The invariants, over everything acknowledged so far; returns the acknowledged writes that are missing. */
async function check(registry: Registry, ledger: Ledger): Promise<string[]> {
  const call = api(registry);
  const missing: string[] = [];
  const assets = new Set([...ledger.assets, ...[...ledger.versions.keys()].map((k) => k.split('@')[0]!)]);
  for (const asset of assets) {
    const got = await call<AssetRecord>('GET', `/v1/assets/${asset}`);
    if (got.status !== 200) {
      missing.push(`asset ${asset}`);
      continue;
    }
    const versions = await listAll<VersionRecord>(call, `/v1/assets/${asset}/-/versions`);
    const live = versions.filter((v) => v.status !== 'deleted');
    expect(got.body.liveVersions, `${asset}: live-version count`).toBe(live.length);
    expect(live.length).toBeLessThanOrEqual(CAP);
    const byVersion = new Map(versions.map((v) => [v.version, v]));
    for (const [key, committed] of ledger.versions) {
      const [name, version] = key.split('@') as [string, string];
      if (name !== asset) continue;
      const record = byVersion.get(version);
      if (!record || record.status === 'deleted') missing.push(`version ${key}`);
      else if (committed && record.status === 'pending') missing.push(`commit of ${key}`);
    }
    for (const alias of await listAll<AliasRecord>(call, `/v1/assets/${asset}/-/aliases`)) {
      const target = byVersion.get(alias.version);
      expect(target && target.status !== 'deleted' && target.status !== 'pending', `${asset}#${alias.alias} → ${alias.version} is live`).toBe(true);
    }
  }
  for (const [key, { possible, acknowledged }] of ledger.aliases) {
    const [asset, alias] = key.split('#') as [string, string];
    const found = (await listAll<AliasRecord>(call, `/v1/assets/${asset}/-/aliases`)).find((a) => a.alias === alias);
    // An alias whose only move was still unanswered at the kill may be absent.
    if (!found) {
      if (acknowledged) missing.push(`alias ${key}`);
    } else if (!possible.has(found.version)) missing.push(`alias ${key} → ${found.version}, expected one of ${[...possible].join(', ')}`);
  }
  return missing;
}

function randomFile(file: string, size: number): string {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4 * MIB);
  const hash = createHash('sha256');
  for (let written = 0; written < size; written += chunk.length) {
    randomFillSync(chunk);
    const n = Math.min(chunk.length, size - written);
    writeSync(fd, chunk, 0, n);
    hash.update(chunk.subarray(0, n));
  }
  closeSync(fd);
  return hash.digest('hex');
}

async function fileSha(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Resolves once the push's resume state records `parts` parts arrived (the upload is mid-way). */
async function partsLanded(stateFile: string, parts: number, push: Promise<CliExit>): Promise<void> {
  let ended = false;
  void push.then(() => (ended = true));
  for (;;) {
    if (ended) throw new Error(`the push ended before the kill: ${(await push).stderr}`);
    const state = await readFile(stateFile, 'utf8').then((t) => JSON.parse(t) as { done: number[] }, () => undefined);
    if (state && state.done.length >= parts) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('kill -9 of local mode', () => {
  it(`loses no acknowledged write across ${FAULTS} kills mid-burst, and the killed multipart push can be redone`, { timeout: 900_000 }, async () => {
    work = await mkdtemp(path.join(tmpdir(), 'arca-faults-'));
    const dataDir = path.join(work, 'data');
    const cacheDir = path.join(work, 'cache');
    const big = path.join(work, 'weights.bin');
    const bigSha = randomFile(big, 2 * 64 * MIB + MIB); // three parts of a multipart upload
    const stateFile = path.join(cacheDir, 'uploads', `${bigSha}.json`);
    const ledger: Ledger = { assets: new Set(), versions: new Map(), aliases: new Map(), acknowledged: 0, killing: false };
    const lostPerFault: number[] = [];
    let registry = await start(dataDir);
    const cli = (args: string[]) => spawnCli(args, { PATH: process.env.PATH, HOME: work, ARCA_CONFIG: path.join(work, 'none.json'), ARCA_URL: registry.url, ARCA_TOKEN: registry.token, ARCA_CACHE_DIR: cacheDir });

    // One asset filled towards the cap across the faults: later kills land on creates at and around the cap.
    const capAsset = 'faults/cap';
    expect((await api(registry)('POST', '/v1/assets', { name: capAsset, type: 'model' })).status).toBe(201);
    ledger.assets.add(capAsset);
    for (let fault = 0; fault < FAULTS; fault++) {
      const call = api(registry);
      ledger.killing = false;
      const acknowledgedBefore = ledger.acknowledged;
      const burst = [
        ...Array.from({ length: WORKERS }, (_, w) => writer(call, ledger, `${fault}-${w}`)),
        ...Array.from({ length: CAP_WORKERS }, () => capWriter(call, ledger, capAsset)),
      ].map((p) => p.catch((error: unknown) => (error instanceof NoAnswer ? undefined : Promise.reject(error))));
      // The first fault lands in the middle of a multipart push; the others at a random moment of the burst.
      const push = fault === 0 ? cli(['push', 'faults/big', big, '--concurrency', '1']).done : undefined;
      if (push) await partsLanded(stateFile, 1, push);
      else await new Promise((r) => setTimeout(r, 2500 + Math.random() * 3000));
      ledger.killing = true;
      await kill9(registry);
      await Promise.all(burst);
      expect(ledger.acknowledged, 'the burst made writes before the kill').toBeGreaterThan(acknowledgedBefore + WORKERS);
      if (push) {
        // The CLI reports the dead server as an error of its own, not a crash.
        const exit = await push;
        expect(exit.code, exit.stderr).toBe(1);
        expect(exit.stderr).toMatch(/^arca: /);
        expect(exit.stderr).not.toMatch(/\n\s+at /);
      }

      registry = await start(dataDir);
      const missing = await check(registry, ledger);
      expect(missing, `after fault ${fault + 1}`).toEqual([]);
      lostPerFault.push(missing.length);
    }
    // The cap asset, topped up: exactly CAP live versions, and the next create is refused.
    ledger.killing = false;
    await capWriter(api(registry), ledger, capAsset);
    const capped = await api(registry)<AssetRecord>('GET', `/v1/assets/${capAsset}`);
    expect(capped.body.liveVersions).toBe(CAP);
    expect(await check(registry, ledger)).toEqual([]);

    // The push the first kill interrupted, run again: it resumes (or redoes) and makes a ready version.
    const again = await cli(['push', 'faults/big', big, '--json']).done;
    expect(again.code, again.stderr).toBe(0);
    const pushed = (JSON.parse(again.stdout) as { version: VersionRecord }).version;
    expect(pushed.status).toBe('ready');
    const out = path.join(work, 'out');
    const pulled = await cli(['pull', `faults/big:${pushed.version}`, '-o', out]).done;
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(await fileSha(path.join(out, 'weights.bin'))).toBe(bigSha);
    expect(lostPerFault).toEqual(Array(FAULTS).fill(0));
    await kill9(registry);
    // The figure docs/hardening.md quotes.
    process.stderr.write(`faults: ${FAULTS} kill -9, ${ledger.acknowledged} acknowledged writes checked after each restart, ${lostPerFault.reduce((a, b) => a + b, 0)} lost\n`);
  });
});
