import { build } from 'esbuild';
import { esbuildOptions } from '../lib/registry.ts';
const o = esbuildOptions('functions/api/read.ts', 'active');
for (const v of [{ ...o, inject: [] }]) { const r = await build(v); console.log(Object.values(r.metafile.outputs)[0]!.bytes); }
