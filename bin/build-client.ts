/**
 * Builds the installable package (`npm pack` runs it as `prepack`): esbuild bundles the CLI, the SDK and the
 * hash worker into plain ESM JavaScript for Node.js ≥ 20 in `dist/`, every dependency inside, so an install
 * needs nothing else; tsc writes the SDK's declarations into `dist/types/`.
 *
 * Code splitting keeps the CLI's lazy imports lazy: `arca --version` loads commander only, the SDK and the AWS
 * signer are chunks loaded by the commands that need them.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'dist');

rmSync(OUT, { recursive: true, force: true });

const result = await build({
  absWorkingDir: ROOT,
  entryPoints: {
    cli: 'client/cli/main.ts',
    index: 'client/index.ts',
    // Loaded by path (`new URL('./hashWorker.js', import.meta.url)` in client/hash.ts), so its own entry.
    hashWorker: 'client/hashWorker.ts',
  },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
  // CommonJS dependencies (commander, cli-progress, parts of the AWS SDK) call `require` for Node built-ins;
  // an ESM bundle has no `require` unless it makes one.
  banner: { js: "import { createRequire as __arcaCreateRequire } from 'node:module'; const require = __arcaCreateRequire(import.meta.url);" },
});

// hash.ts finds its worker as `./hashWorker.js` beside itself: whatever file it was bundled into must be in dist/.
const outputs = Object.keys(result.metafile.outputs);
const withHash = outputs.filter((o) => Object.keys(result.metafile.outputs[o]!.inputs).includes('client/hash.ts'));
if (withHash.length === 0 || withHash.some((o) => !/^dist\/[^/]+\.js$/.test(o))) throw new Error(`client/hash.ts is bundled into ${withHash.join(', ') || 'nothing'}, not beside dist/hashWorker.js`);

execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.client.json')], { stdio: 'inherit' });

// The declarations keep the sources' `./x.ts` specifiers; a consumer resolves `./x.js` to `x.d.ts`.
for (const file of readdirSync(join(OUT, 'types'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts'))) {
  const path = join(OUT, 'types', file);
  writeFileSync(path, readFileSync(path, 'utf8').replace(/(from\s+['"]\.{1,2}\/[^'"]*)\.ts(['"])/g, '$1.js$2').replace(/(import\(['"]\.{1,2}\/[^'"]*)\.ts(['"]\))/g, '$1.js$2'));
}

const bytes = (name: string) => result.metafile.outputs[name]?.bytes ?? 0;
console.log(`dist/: cli.js ${bytes('dist/cli.js')} B, index.js ${bytes('dist/index.js')} B, hashWorker.js ${bytes('dist/hashWorker.js')} B, ${outputs.filter((o) => o.startsWith('dist/chunk-') && o.endsWith('.js')).length} chunks`);
