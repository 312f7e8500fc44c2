/**
 * Stack traces of a function bundle name our TypeScript files and lines, through the source map beside the bundle,
 * read on the first stack trace formatted instead of at every cold start. `--enable-source-maps` does the mapping
 * too, but pays before the first request: Node measures every line of the bundle and reads the map at import,
 * ≈ 14 ms of CPU per cold start of the read function (docs/benchmarks.md, "Bundles"). Traces are formatted
 * only when something reads `error.stack`: an unhandled error logged, a 500.
 *
 * Active in the function bundles only: the stack sets `process.env.ARCA_BUNDLE` to "true" at bundle time
 * (`functionBundling` in lib/registry.ts); unbundled code (tests, local mode) runs the sources, whose traces need
 * no map. Imported by functions/shared/logger.ts, which every function loads first. The parsing is Node's own
 * (`SourceMap` of node:module).
 */
import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { fileURLToPath } from 'node:url';

/** In the bundle, this module's URL is the bundle's: file:///var/task/index.mjs. */
const BUNDLE = import.meta.url;
let map: SourceMap | null | undefined;

function bundleMap(): SourceMap | null {
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(BUNDLE)}.map`, 'utf8')) as SourceMapPayload);
    } catch {
      // No map beside the bundle (or an unreadable one): traces keep the bundle's positions.
      map = null;
    }
  }
  return map;
}

/** A frame in the bundle, with its position in the source: the map's path resolved against the bundle, as Node does. */
function frame(site: NodeJS.CallSite): string {
  const text = site.toString();
  const line = site.getLineNumber();
  const column = site.getColumnNumber();
  if (site.getFileName() !== BUNDLE || line === null || column === null) return text;
  const origin = bundleMap()?.findOrigin(line, column);
  if (!origin || !('fileName' in origin)) return text;
  const source = fileURLToPath(new URL(origin.fileName, BUNDLE));
  return text.replace(`${BUNDLE}:${line}:${column}`, `${source}:${origin.lineNumber}:${origin.columnNumber}`);
}

function prepareStackTrace(error: Error, sites: NodeJS.CallSite[]): string {
  let head: string;
  try {
    head = Error.prototype.toString.call(error);
  } catch {
    head = 'Error';
  }
  return [head, ...sites.map((site) => `    at ${frame(site)}`)].join('\n');
}

if (process.env.ARCA_BUNDLE === 'true') Error.prepareStackTrace = prepareStackTrace;
