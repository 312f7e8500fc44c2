/** `GET /v1/openapi.json`: the generated OpenAPI 3.1 document of this API (R-API). */
import { readFile } from 'node:fs/promises';
import type { RouteHandler } from '../../shared/http.ts';

/**
 * In a bundle the stack builds, the document was generated at synth time and lies beside the code
 * (`openapi.json`, `functionBundling` in lib/registry.ts), which replaces `process.env.ARCA_OPENAPI_FILE`
 * by `'true'`: the generator (contract/openapi.ts, zod's JSON Schema writer) is then dead code, left out of the bundle. Unbundled (tests,
 * local mode), the document is generated here.
 */
const load = async (): Promise<unknown> =>
  process.env.ARCA_OPENAPI_FILE === 'true'
    ? JSON.parse(await readFile(new URL('./openapi.json', import.meta.url), 'utf8'))
    : (await import('../../../contract/openapi.ts')).openApiDocument();

let document: Promise<unknown> | undefined;

// The document changes only with a deployment, so clients may keep it for a while.
export const openapi: RouteHandler = async () => ({ status: 200, body: await (document ??= load()), headers: { 'cache-control': 'public, max-age=300' } });
