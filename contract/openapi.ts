/**
 * The OpenAPI 3.1 document of the HTTP API, generated (R-API) from the two sources of truth: the route table
 * (method, path, role) and the zod schemas each route parses its body and query with. Nothing in it is written
 * by hand but the summaries; a route added to ROUTES without an entry in ROUTE_IO fails the type check.
 *
 * Response bodies are TypeScript interfaces, not zod schemas, so a success is described by its status only;
 * every error answer shares the `Error` component (R-ERR). Schemas are written by zod's own JSON Schema
 * generator (draft 2020-12, which OpenAPI 3.1 schema objects are), for the input side: what a client sends.
 */
import { ERROR_CODES, type ErrorCode } from './errors.ts';
import { CreateHookRequest } from './events.ts';
import { ROUTES, type Route, type RouteId } from './routes.ts';
import {
  AddFilesRequest,
  AliasHistoryQuery,
  AuditQuery,
  CreateAssetRequest,
  CreateVersionRequest,
  DeleteGrantQuery,
  DeleteQuery,
  GrantRequest,
  LineageQuery,
  ListAssetsQuery,
  ListGrantsQuery,
  ListQuery,
  ListVersionsQuery,
  PromoteOutputRequest,
  PutOutputRequest,
  ResolveQuery,
  SetAliasRequest,
  UpdateAssetRequest,
  UpdateVersionRequest,
  UploadPartsRequest,
  WithdrawFilesQuery,
} from './schemas.ts';
import * as z from './zod.ts';

type QuerySchema = z.ZodMiniObject;

/** What a route reads besides its path: the body and query schemas its handler parses, and its success status. */
export interface RouteIO {
  summary: string;
  /** The JSON body schema and its component name. */
  body?: { name: string; schema: z.ZodMiniType; required?: boolean };
  query?: QuerySchema;
  /** Success statuses; the first is the usual one. */
  success: readonly number[];
}

const body = (name: string, schema: z.ZodMiniType, required = true): RouteIO['body'] => ({ name, schema, required });

export const ROUTE_IO = {
  health: { summary: 'Liveness: answers without authentication', success: [200] },
  openapi: { summary: 'This document', success: [200] },
  listAssets: { summary: 'List the assets the caller may read', query: ListAssetsQuery, success: [200] },
  createAsset: { summary: 'Create an asset', body: body('CreateAssetRequest', CreateAssetRequest), success: [201] },
  getAsset: { summary: 'Read an asset', success: [200] },
  updateAsset: { summary: 'Edit an asset (If-Match: its etag)', body: body('UpdateAssetRequest', UpdateAssetRequest, false), success: [200] },
  deleteAsset: { summary: 'Delete an asset and tombstone its versions', query: DeleteQuery, success: [204] },
  listVersions: { summary: "List an asset's versions", query: ListVersionsQuery, success: [200] },
  createVersion: { summary: 'Declare a version and get its upload instructions', body: body('CreateVersionRequest', CreateVersionRequest), success: [201] },
  getVersion: { summary: 'Read a version', success: [200] },
  updateVersion: { summary: "Edit a version's metadata (If-Match: its etag)", body: body('UpdateVersionRequest', UpdateVersionRequest, false), success: [200] },
  deleteVersion: { summary: 'Tombstone a version', query: DeleteQuery, success: [200] },
  addFiles: { summary: 'Add files (a new format) to an unpublished version', body: body('AddFilesRequest', AddFilesRequest), success: [200] },
  withdrawFiles: { summary: 'Withdraw the files of a ready version whose bytes never arrived', query: WithdrawFilesQuery, success: [200] },
  commitVersion: { summary: 'Check what arrived; the version becomes ready (202 while hashing)', success: [200, 202] },
  uploadParts: { summary: 'More presigned part URLs of a multipart upload', body: body('UploadPartsRequest', UploadPartsRequest, false), success: [200] },
  publishVersion: { summary: 'Publish a ready version (frozen from then on)', success: [200] },
  downloadFile: { summary: 'Redirect to a presigned download of one file', success: [302] },
  lineage: { summary: 'What a version records and what records it', query: LineageQuery, success: [200] },
  listAliases: { summary: "List an asset's aliases", query: ListQuery, success: [200] },
  setAlias: { summary: 'Point an alias at a version', body: body('SetAliasRequest', SetAliasRequest), success: [200] },
  deleteAlias: { summary: 'Delete an alias', success: [204] },
  aliasHistory: { summary: 'Where an alias pointed, newest first', query: AliasHistoryQuery, success: [200] },
  resolve: { summary: 'Resolve a spec (name:version, range, alias) to presigned downloads', query: ResolveQuery, success: [200] },
  putOutput: { summary: 'Declare a run output and get its upload instructions', body: body('PutOutputRequest', PutOutputRequest), success: [201, 200] },
  getOutput: { summary: 'Read a run output with download URLs', success: [200] },
  listOutputs: { summary: "List a run's outputs", query: ListQuery, success: [200] },
  commitOutput: { summary: 'Check what arrived; the output becomes ready (202 while hashing)', success: [200, 202] },
  outputParts: { summary: 'More presigned part URLs of an output upload', body: body('UploadPartsRequest', UploadPartsRequest, false), success: [200] },
  promoteOutput: { summary: 'Promote a ready run output to a version of an asset', body: body('PromoteOutputRequest', PromoteOutputRequest), success: [201] },
  listAudit: { summary: 'The audit log, newest first', query: AuditQuery, success: [200] },
  listHooks: { summary: 'List webhooks', query: ListQuery, success: [200] },
  createHook: { summary: 'Create a webhook (its secret is returned once)', body: body('CreateHookRequest', CreateHookRequest), success: [201] },
  deleteHook: { summary: 'Delete a webhook', success: [204] },
  listDeliveries: { summary: "A webhook's deliveries", query: ListQuery, success: [200] },
  listGrants: { summary: 'List run-time grants', query: ListGrantsQuery, success: [200] },
  putGrant: { summary: 'Grant a role on an asset-name prefix', body: body('GrantRequest', GrantRequest), success: [200] },
  deleteGrant: { summary: 'Remove a grant', query: DeleteGrantQuery, success: [204] },
} as const satisfies Record<RouteId, RouteIO>;

/** The one error shape of every 4xx and 5xx answer. */
export const ErrorResponse = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    requestId: z.string(),
    details: z.optional(z.unknown()),
  }),
});

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted: verification in progress', 204: 'No content', 302: 'Redirect to a presigned URL' };

/** `{name}`, `{path}` and `{spec}` may hold `/`; OpenAPI has no multi-segment parameter, so the description says so. */
const MULTI_SEGMENT = new Set(['name', 'path', 'spec']);

export const pathParams = (path: string): string[] => [...path.matchAll(/\{([a-zA-Z]+)\}/g)].map((m) => m[1]!);

const COMPONENTS = '#/components/schemas/';

type JsonSchema = z.core.JSONSchema.BaseSchema;

/** A schema as a schema object: what a client may send (defaults optional, transforms by their input). */
function inputSchema(schema: z.ZodMiniType): JsonSchema {
  // A component or parameter schema is not a document root: no dialect of its own.
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'input' });
  return json;
}

function parameters(path: string, query: QuerySchema | undefined): object[] {
  const inPath = pathParams(path).map((name) => {
    const description = MULTI_SEGMENT.has(name) ? `${name}: may contain "/" (sent as is, not percent-encoded)` : name;
    return { name, in: 'path', required: true, description, schema: { type: 'string', minLength: 1, description } };
  });
  if (!query) return inPath;
  const { properties = {}, required = [] } = inputSchema(query);
  return [...inPath, ...Object.entries(properties).map(([name, schema]) => ({ name, in: 'query', required: required.includes(name), schema }))];
}

function operation(route: Route, io: RouteIO): object {
  const params = parameters(route.path, io.query);
  const responses = Object.fromEntries(io.success.map((status) => [status, { description: STATUS_TEXT[status] ?? String(status) }]));
  const ref = (id: string) => ({ 'application/json': { schema: { $ref: `${COMPONENTS}${id}` } } });
  return {
    operationId: route.id,
    summary: io.summary,
    description: route.role ? `Needs the ${route.role} role${route.scope ? ` on the ${route.scope === 'flow' ? 'name flows/{flow}' : 'asset name'}` : ''}.` : 'Open: no authentication.',
    security: route.role ? [{ bearer: [] }] : [],
    ...(params.length ? { parameters: params } : {}),
    ...(io.body ? { requestBody: { required: io.body.required ?? true, content: ref(io.body.name) } } : {}),
    responses: { ...responses, default: { description: 'An error', content: ref('Error') } },
  };
}

/** Each body schema once however many routes take it, and the error shape, as named components. */
function componentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  registry.add(ErrorResponse, { id: 'Error' });
  for (const io of Object.values(ROUTE_IO) as RouteIO[]) if (io.body && !registry.has(io.body.schema)) registry.add(io.body.schema, { id: io.body.name });
  const { schemas } = z.toJSONSchema(registry, { io: 'input', uri: (id) => `${COMPONENTS}${id}` });
  return Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _dialect, $id: _id, ...json }]) => [id, json]));
}

let cached: object | undefined;

/** The document, built once per process (the read function serves it on every cold start's first call). */
export function openApiDocument(): object {
  if (cached) return cached;
  const paths: Record<string, Record<string, object>> = {};
  for (const route of ROUTES as readonly Route[]) {
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route, ROUTE_IO[route.id as RouteId]);
  }
  cached = {
    openapi: '3.1.0',
    info: { title: 'Arca asset registry', version: '1', description: 'Immutable, versioned ML assets. Every error answers with the Error component.' },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A JWT of the configured issuer (jwt mode) or the local token (local mode); IAM mode signs requests with SigV4 instead.',
        },
      },
      schemas: componentSchemas(),
    },
    paths,
  };
  return cached;
}
