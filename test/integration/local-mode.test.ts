/**
 * `npm start` as a user runs it (R-LOCAL): health once up, the admin token printed and kept in the data
 * folder, data surviving a restart, a clean stop on Ctrl+C, and a clear message when Java is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
// As `npm start` runs it: tsx as an in-process loader. (The tsx CLI relays Ctrl+C to a child process with a
// 30 ms handshake that a loaded machine misses, and then exits 130.)
const START = ['--import', 'tsx', 'local/main.ts'];
const NODE_DIR = path.dirname(process.execPath);
const children = new Set<ChildProcess>();
let dataDir: string;

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  url: string;
  token: string;
  output: () => string;
}

function run(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, START, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => output, exited };
}

async function start(): Promise<Started & { exited: Promise<number | null> }> {
  const { child, output, exited } = run({ ARCA_DATA_DIR: dataDir, ARCA_PORT: '0', PATH: `${NODE_DIR}${path.delimiter}${process.env.PATH}` });
  const deadline = Date.now() + 90_000;
  for (;;) {
    const m = /running at (http:\/\/\S+)[\s\S]*admin token: (\S+)/.exec(output());
    if (m) return { child, url: m[1]!, token: m[2]!, output, exited };
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `pid` and every process below it (DynamoDB Local's JVM is a child of the Node process). */
async function processTree(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => []);
  const children = await Promise.all(tasks.map((t) => readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '')));
  const below = children.join(' ').split(/\s+/).filter(Boolean).map(Number);
  return [pid, ...(await Promise.all(below.map(processTree))).flat()];
}

/** A /proc/net/tcp{,6} address (32-bit words in host order, little-endian here) as text. */
function procAddress(hex: string): string {
  const words = hex.match(/.{8}/g)!.map((w) => Buffer.from(w, 'hex').reverse());
  const bytes = Buffer.concat(words);
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${[...bytes.subarray(12)].join('.')}`;
  return (bytes.toString('hex').match(/.{4}/g) ?? []).join(':');
}

/** The local addresses every socket of the process tree listens on, from /proc/net/tcp and tcp6. */
async function listeningAddresses(pid: number): Promise<string[]> {
  const inodes = new Set<string>();
  for (const p of await processTree(pid)) {
    for (const fd of await readdir(`/proc/${p}/fd`).catch(() => [])) {
      const target = await readlink(`/proc/${p}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.add(inode);
    }
  }
  const listening: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (await readFile(table, 'utf8')).split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[1] local address:port, f[3] state (0A = LISTEN), f[9] inode.
      if (f[3] !== '0A' || !inodes.has(f[9] ?? '')) continue;
      const [address = '', port = ''] = (f[1] ?? '').split(':');
      listening.push(`${procAddress(address)} port ${parseInt(port, 16)}`);
    }
  }
  return listening;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::ffff:127\.\d+\.\d+\.\d+|0000:0000:0000:0000:0000:0000:0000:0001) port \d+$/;

describe('npm start', () => {
  it('serves health, keeps the token and the data across a restart, and stops cleanly on SIGINT', { timeout: 240_000 }, async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'arca-start-'));
    const first = await start();
    const health = await fetch(`${first.url}/v1/health`);
    expect(health.status).toBe(200);
    // One access-log line per request, with the id the response carries.
    const id = health.headers.get('x-request-id');
    expect(id).toMatch(/^[\w-]{8,}$/);
    await expect.poll(first.output).toMatch(new RegExp(`^\\S+Z ${id} GET /v1/health 200 \\d+ms$`, 'm'));
    // Issue 13: the API, the S3 front, s3rver and DynamoDB Local listen on loopback only.
    const listening = await listeningAddresses(first.child.pid!);
    expect(listening.length).toBeGreaterThanOrEqual(4);
    for (const socket of listening) expect(socket).toMatch(LOOPBACK);
    expect((await readFile(path.join(dataDir, 'token'), 'utf8')).trim()).toBe(first.token);
    const auth = { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' };
    const created = await fetch(`${first.url}/v1/assets`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'kept/model', type: 'model' }) });
    expect(created.status).toBe(201);
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);

    const second = await start();
    expect(second.token).toBe(first.token);
    const kept = await fetch(`${second.url}/v1/assets/kept/model`, { headers: auth });
    expect(kept.status).toBe(200);
    expect(await kept.json()).toMatchObject({ name: 'kept/model', type: 'model' });
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('exits with code 2 and says what to install when Java is missing', async () => {
    // Only Node on the PATH: no java.
    const { output, exited } = run({ ARCA_DATA_DIR: path.join(tmpdir(), 'arca-nojava'), PATH: NODE_DIR });
    expect(await exited).toBe(2);
    expect(output()).toContain('DynamoDB Local needs Java 17 or newer');
    expect(output()).toContain('apt-get install openjdk-17-jdk-headless');
  });
});
