#!/usr/bin/env node
// The `arca` executable: plain JavaScript so that it can turn on Node's compile cache (which also keeps
// type-stripped TypeScript) before anything else loads; that halves the CLI's cold start.
// Installed from the package (which ships dist/, not the sources) it runs the bundle bin/build-client.ts built,
// on any Node ≥ 20. In a clone (or `npm link`ed from one) it runs the TypeScript sources, so edits are live:
// Node 24 strips the types itself; where it cannot (an older Node), tsx does.
import { existsSync } from 'node:fs';
import module from 'node:module';
import process from 'node:process';
import { URL } from 'node:url';

module.enableCompileCache?.();

const NEEDS_TSX = new Set(['ERR_UNKNOWN_FILE_EXTENSION', 'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING', 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX']);

async function load() {
  const source = new URL('./main.ts', import.meta.url);
  if (!existsSync(source)) return import('../../dist/cli.js');
  try {
    return await import('./main.ts');
  } catch (err) {
    if (!NEEDS_TSX.has(err?.code)) throw err;
    const { register } = await import('tsx/esm/api');
    return register({ namespace: 'arca' }).import('./main.ts', import.meta.url);
  }
}

const cli = await load();
process.exitCode = await cli.main(process.argv);
