/**
 * `npm start` as a user runs it (R-LOCAL): health once up, the admin token printed and kept in the data
 * folder, data surviving a restart, a clean stop on Ctrl+C, and a clear message when Java is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
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

describe('npm start', () => {
  it('serves health, keeps the token and the data across a restart, and stops cleanly on SIGINT', { timeout: 240_000 }, async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'arca-start-'));
    const first = await start();
    expect((await fetch(`${first.url}/v1/health`)).status).toBe(200);
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
    expect(output()).toContain('apt-get install openjdk-17-jre-headless');
  });
});
