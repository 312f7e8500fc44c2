/**
 * `arca completion bash|zsh`: the script printed by the CLI, loaded into a real bash (and zsh where installed),
 * completes subcommands, options and choices from the commander program.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../client/cli/main.ts';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', '..', 'client', 'cli', 'arca.js');
const ZSH = ['/usr/bin/zsh', '/bin/zsh'].find((p) => existsSync(p));

let dir = '';
const scripts = { bash: '', zsh: '' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'arca-completion-'));
  for (const shell of ['bash', 'zsh'] as const) {
    const { stdout } = await run(process.execPath, [BIN, 'completion', shell], { env: { PATH: process.env.PATH, HOME: dir } });
    scripts[shell] = join(dir, `arca.${shell}`);
    await writeFile(scripts[shell], stdout);
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** What bash offers for the command line `words` (the last word is the one being completed). */
async function bashComplete(...words: string[]): Promise<string[]> {
  const array = words.map((w) => `'${w}'`).join(' ');
  const { stdout } = await run('bash', ['-c', `source '${scripts.bash}'; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _arca; printf '%s\\n' "\${COMPREPLY[@]}"`]);
  return stdout.split('\n').filter(Boolean);
}

describe('arca completion bash', () => {
  it('registers _arca for arca, falling back to file names', async () => {
    const { stdout } = await run('bash', ['-c', `source '${scripts.bash}'; complete -p arca`]);
    expect(stdout.trim()).toBe('complete -o default -F _arca arca');
  });

  it('completes every top-level command of the program, and only those matching the prefix', async () => {
    const names = buildProgram().commands.map((c) => c.name());
    expect(names).toContain('completion');
    expect((await bashComplete('arca', '')).sort()).toEqual([...names].sort());
    expect((await bashComplete('arca', 'pu')).sort()).toEqual(['publish', 'pull', 'push']);
  });

  it('completes subcommands after a global option and its value', async () => {
    expect(await bashComplete('arca', '--url', 'http://localhost:4100', 'outputs', 'p')).toEqual(['put', 'promote']);
    expect((await bashComplete('arca', 'hooks', '')).sort()).toEqual(['add', 'deliveries', 'ls', 'rm']);
  });

  it("completes a command's own options, the global ones, and the choices of an option", async () => {
    expect(await bashComplete('arca', 'push', 'x', '--ty')).toEqual(['--type']);
    expect(await bashComplete('arca', 'push', '--no-')).toEqual(['--no-resume']);
    expect(await bashComplete('arca', 'rm', 'a/b', '--')).toEqual(expect.arrayContaining(['--force', '--reason', '--url', '--json', '--help']));
    expect(await bashComplete('arca', 'ls', '--type', '')).toEqual(['model', 'dataset', 'other']);
    expect(await bashComplete('arca', 'pull', 'a/b', '--stage', 'p')).toEqual(['published']);
    expect(await bashComplete('arca', 'completion', '')).toEqual(['bash', 'zsh']);
  });

  it('offers nothing where a name or path goes, so bash completes file names', async () => {
    expect(await bashComplete('arca', 'push', 'demo/iris', '')).toEqual([]);
  });
});

describe.skipIf(ZSH === undefined)('arca completion zsh (through zsh bashcompinit)', () => {
  /** What zsh's bash emulation hands to compadd: every candidate (zsh itself filters by the prefix). */
  async function zshComplete(...words: string[]): Promise<string[]> {
    const array = words.map((w) => `'${w}'`).join(' ');
    const line = `source '${scripts.zsh}'; print -r -- "$_comps[arca]"; words=(${array}); CURRENT=${words.length}; COMP_WORDS=("\${words[@]}"); COMP_CWORD=$((CURRENT - 1)); compgen -F _arca -- '${words.at(-1)}'`;
    const { stdout } = await run(ZSH!, ['-f', '-c', line], { env: { PATH: process.env.PATH, HOME: dir } });
    const [registered, ...candidates] = stdout.split('\n').filter(Boolean);
    expect(registered).toBe('_bash_complete -o default -F _arca');
    return candidates;
  }

  it('completes subcommands of the command path and the choices of an option', async () => {
    expect((await zshComplete('arca', 'outputs', 'p')).sort()).toEqual(['get', 'ls', 'promote', 'put']);
    expect(await zshComplete('arca', 'ls', '--type', '')).toEqual(['model', 'dataset', 'other']);
    expect(await zshComplete('arca', 'push', 'x', '--')).toContain('--publish');
  });
});
