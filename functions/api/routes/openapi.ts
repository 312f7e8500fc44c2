/** `GET /v1/openapi.json`: the generated OpenAPI 3.1 document of this API (R-API). */
import { openApiDocument } from '../../../contract/openapi.ts';
import type { RouteHandler } from '../../shared/http.ts';

// The document changes only with a deployment, so clients may keep it for a while.
export const openapi: RouteHandler = async () => ({ status: 200, body: openApiDocument(), headers: { 'cache-control': 'public, max-age=300' } });
