#!/usr/bin/env node
// The `arca` executable: plain JavaScript so that it can turn on Node's compile cache (which also keeps
// type-stripped TypeScript) before any TypeScript loads; that halves the CLI's cold start.
// Node 24 then runs the TypeScript directly; where it cannot (an older Node, or the package installed under
// node_modules, where Node refuses to strip types), tsx does.
import module from 'node:module';
import process from 'node:process';

module.enableCompileCache?.();

const NEEDS_TSX = new Set(['ERR_UNKNOWN_FILE_EXTENSION', 'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING', 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX']);

let cli;
try {
  cli = await import('./main.ts');
} catch (err) {
  if (!NEEDS_TSX.has(err?.code)) throw err;
  const { register } = await import('tsx/esm/api');
  cli = await register({ namespace: 'arca' }).import('./main.ts', import.meta.url);
}
process.exitCode = await cli.main(process.argv);
