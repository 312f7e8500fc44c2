/**
 * `GET /v1/openapi.json` (R-API) through the real read handler on DynamoDB Local: open without a token, a
 * valid OpenAPI 3.1 document, and every route of contract/routes.ts in it with its method, path parameters,
 * query parameters and request body schema, all errors pointing at the one Error component.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as z from '../../contract/zod.ts';
import { ERROR_CODES } from '../../contract/errors.ts';
import { ROUTE_IO, pathParams, type RouteIO } from '../../contract/openapi.ts';
import { ROUTES, type Route } from '../../contract/routes.ts';
import { startService, type Service } from '../fixtures/service.ts';

interface Operation {
  operationId: string;
  parameters?: { name: string; in: 'path' | 'query'; required: boolean }[];
  requestBody?: { required: boolean; content: { 'application/json': { schema: { $ref: string } } } };
  responses: Record<string, { content?: { 'application/json': { schema: { $ref: string } } } }>;
  security: unknown[];
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties: Record<string, unknown>; required?: string[] }> };
}

/** Routes that change state with no body at all: the path says everything. */
const BODILESS = new Set(['deleteAsset', 'deleteVersion', 'withdrawFiles', 'commitVersion', 'publishVersion', 'deleteAlias', 'commitOutput', 'deleteHook', 'deleteGrant']);

let svc: Service;
let doc: Document;
beforeAll(async () => {
  svc = await startService({ ARCA_AUTH_MODE: 'iam' });
  const res = await svc.call('GET', '/v1/openapi.json', { token: null });
  expect(res.status).toBe(200);
  doc = res.body as Document;
});
afterAll(() => svc?.stop());

const operation = (route: Route): Operation | undefined => doc.paths[route.path]?.[route.method.toLowerCase()];
const ioOf = (route: Route): RouteIO => ROUTE_IO[route.id as keyof typeof ROUTE_IO];
const shapeKeys = (schema: z.ZodMiniType): string[] => Object.keys((schema as unknown as z.ZodMiniObject).shape).sort();

describe('GET /v1/openapi.json', () => {
  it('answers without a principal, as OpenAPI 3.1 that a schema validator accepts', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(structuredClone(doc) as unknown as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it.each((ROUTES as readonly Route[]).map((r) => [r.id, r] as const))('%s is in it with its method, path and query parameters', (_id, route) => {
    const op = operation(route);
    expect(op?.operationId).toBe(route.id);
    const inPath = (op?.parameters ?? []).filter((p) => p.in === 'path');
    expect(inPath.map((p) => p.name)).toEqual(pathParams(route.path));
    expect(inPath.every((p) => p.required)).toBe(true);
    const query = ioOf(route).query;
    expect((op?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name).sort()).toEqual(query ? shapeKeys(query) : []);
    expect(op?.security).toEqual(route.role === null ? [] : [{ bearer: [] }]);
    expect(op?.responses.default?.content?.['application/json'].schema.$ref).toBe('#/components/schemas/Error');
  });

  it.each((ROUTES as readonly Route[]).map((r) => [r.id, r] as const))('%s documents the body schema its handler parses', (_id, route) => {
    const op = operation(route)!;
    const io = ioOf(route);
    if (route.method === 'GET' || BODILESS.has(route.id)) {
      expect(op.requestBody).toBeUndefined();
      return;
    }
    expect(io.body).toBeDefined();
    const ref = op.requestBody?.content['application/json'].schema.$ref;
    expect(ref).toBe(`#/components/schemas/${io.body!.name}`);
    const component = doc.components.schemas[io.body!.name]!;
    expect(Object.keys(component.properties).sort()).toEqual(shapeKeys(io.body!.schema));
  });

  it('describes the error shape once, with every error code', () => {
    const error = doc.components.schemas.Error as unknown as { properties: { error: { properties: { code: { enum: string[] } }; required: string[] } } };
    expect(error.properties.error.properties.code.enum).toEqual(ERROR_CODES);
    expect(error.properties.error.required.sort()).toEqual(['code', 'message', 'requestId']);
  });

  it('keeps the R-META limits of a version body (the generator reads the zod checks)', () => {
    const create = doc.components.schemas.CreateVersionRequest!;
    expect(create.required).toContain('files');
    expect(create.properties.files).toMatchObject({ type: 'array', minItems: 1, maxItems: 1000 });
    expect(create.properties.metrics).toMatchObject({ type: 'object', maxProperties: 200 });
  });
});
