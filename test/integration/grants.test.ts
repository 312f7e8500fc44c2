/**
 * `arca grants ls|add|rm` and the SDK's grant methods against the local registry (global-setup.ts), over
 * HTTP with its admin token: add, replace, list (table and --json), revoke, and the service's 400 shown.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ArcaClient } from '../../client/index.ts';
import { arca as registry } from './api.ts';

const BIN = join(import.meta.dirname, '..', '..', 'client', 'cli', 'arca.js');
const who = `arn:aws:iam::123456789012:role/cli-${Date.now()}`;

async function arca(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { url, token } = registry();
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, '--url', url, '--token', token, ...args], { env: { PATH: process.env.PATH } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('arca grants', () => {
  it('adds, replaces, lists and revokes grants', async () => {
    expect(await arca('grants', 'add', who, 'reader', 'team/')).toMatchObject({ code: 0, stdout: `${who} is reader on team/*\n` });
    expect((await arca('grants', 'add', who, 'writer', 'team/', '--json')).stdout).toContain('"role": "writer"');
    expect((await arca('grants', 'add', who, 'admin')).stdout).toBe(`${who} is admin on every name\n`);

    const listed = JSON.parse((await arca('grants', 'ls', '--principal', who, '--json')).stdout) as { items: { prefix: string; role: string }[] };
    expect(listed.items.map((g) => [g.prefix, g.role]).sort()).toEqual([['', 'admin'], ['team/', 'writer']]);
    const table = (await arca('grants', 'ls', '--principal', who)).stdout;
    expect(table).toMatch(/PRINCIPAL\s+PREFIX\s+ROLE/);
    expect(table).toMatch(/\(every name\)\s+admin/);

    expect((await arca('grants', 'rm', who)).stdout).toBe(`grant to ${who} on every name revoked\n`);
    expect(JSON.parse((await arca('grants', 'rm', who, 'team/', '--json')).stdout)).toEqual({ principal: who, prefix: 'team/', deleted: true });
    expect(JSON.parse((await arca('grants', 'ls', '--principal', who, '--json')).stdout)).toEqual({ items: [] });
  });

  it('shows the service refusing a malformed grant', async () => {
    const r = await arca('grants', 'add', 'not a principal', 'reader');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^arca: ValidationError: principal: must be an IAM principal ARN/);
    expect((await arca('grants', 'add', who, 'owner')).stderr).toMatch(/ValidationError: role/);
  });

  it('the SDK pages through grants filtered by prefix', async () => {
    const { url, token } = registry();
    const client = new ArcaClient({ url, token });
    const sdk = `${who}-sdk`;
    for (const prefix of ['sdk/a', 'sdk/b', 'sdk/c']) await client.putGrant({ principal: sdk, prefix, role: 'reader' });
    const first = await client.listGrants({ principal: sdk, prefix: 'sdk/', limit: 2 });
    expect(first.items).toHaveLength(2);
    const rest = await client.listGrants({ principal: sdk, prefix: 'sdk/', limit: 2, cursor: first.nextCursor });
    expect([...first.items, ...rest.items].map((g) => g.prefix)).toEqual(['sdk/a', 'sdk/b', 'sdk/c']);
    for (const g of [...first.items, ...rest.items]) await client.deleteGrant(g.principal, g.prefix);
  });
});
