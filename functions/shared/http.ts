/**
 * The one middy stack every route group is built from: logger context → trace → metrics → route match and
 * auth → body parsing → the route's handler; errors mapped to the spec's shape in one place (R-ERR). Route
 * handlers are plain async functions that return `{ status, body, headers }` and throw; they never catch.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import * as z from '../../contract/zod.ts';
import { ERROR_STATUS, type ErrorBody } from '../../contract/errors.ts';
import { ROUTES, matchRoute, type Route, type RouteGroup, type RouteId } from '../../contract/routes.ts';
import { effectiveGrants } from '../domain/grants.ts';
import { flowScope, parseAssetName } from '../domain/names.ts';
import { parseSpec } from '../domain/spec.ts';
import { authenticate, authorize, type Principal } from './auth.ts';
import { env } from './env.ts';
import { ArcaError } from './errors.ts';
import { logger } from './logger.ts';
import { handlerSegment, metrics, tracer } from './observability.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface ApiRequest {
  route: Route;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  /** Header names lower-cased. */
  headers: Record<string, string | undefined>;
  /** The parsed JSON body; `undefined` when there was none. */
  body: unknown;
  requestId: string;
  /** The Lambda context of the invocation. */
  lambda: Context;
  /** `undefined` only on unauthenticated routes. */
  principal?: Principal;
}

export interface ApiResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type RouteHandler = (req: ApiRequest) => Promise<ApiResult>;
export type ApiEvent = APIGatewayProxyEventV2;

/** Parses input against a schema; a failure becomes 400 (or 413 for a size limit) in the error mapper. */
export const parse = <S extends z.ZodMiniType>(schema: S, input: unknown): z.output<S> => schema.parse(input);

/** The principal of an authenticated route (the factory guarantees it). */
export function principalOf(req: ApiRequest): Principal {
  if (!req.principal) throw new Error(`route ${req.route.id} is not authenticated`);
  return req.principal;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function errorResponse(err: unknown, requestId: string): APIGatewayProxyStructuredResultV2 {
  let code: ErrorBody['error']['code'];
  let message: string;
  let details: unknown;
  if (err instanceof ArcaError) {
    ({ code, message, details } = err);
  } else if (err instanceof z.$ZodError) {
    const tooLarge = err.issues.some((i) => i.code === 'custom' && (i.params as { tooLarge?: boolean } | undefined)?.tooLarge);
    code = tooLarge ? 'PayloadTooLarge' : 'ValidationError';
    message = err.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
    details = { issues: err.issues.map((i) => ({ path: i.path, message: i.message, code: i.code })) };
  } else {
    logger.error('unhandled error', { requestId, error: err as Error });
    code = 'Internal';
    message = 'internal error; the request id identifies it in the logs';
  }
  const body: ErrorBody = { error: { code, message, requestId, ...(details !== undefined ? { details } : {}) } };
  return { statusCode: ERROR_STATUS[code], headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
}

function lowerHeaders(headers: ApiEvent['headers']): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

function parseBody(event: ApiEvent): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.length > MAX_BODY_BYTES) {
    throw new ArcaError('PayloadTooLarge', `the request body is ${raw.length} bytes; at most ${MAX_BODY_BYTES}`, { bytes: raw.length, limit: MAX_BODY_BYTES });
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new ArcaError('ValidationError', `the request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** The asset name a route's role is checked against. */
function scopeName(route: Route, params: Record<string, string>): string | undefined {
  if (route.scope === 'name' && params.name !== undefined) return parseAssetName(params.name);
  if (route.scope === 'spec' && params.spec !== undefined) return parseSpec(params.spec).name;
  if (route.scope === 'flow' && params.flow !== undefined) return flowScope(params.flow);
  return undefined;
}

async function toRequest(event: ApiEvent, group: RouteGroup, lambda: Context): Promise<ApiRequest> {
  const match = matchRoute(event.requestContext.http.method, event.rawPath);
  if (!match || match.route.group !== group) {
    throw new ArcaError('NotFound', `no route ${event.requestContext.http.method} ${event.rawPath}`);
  }
  if (match.undecodable) throw new ArcaError('ValidationError', `the path's ${match.undecodable} is not valid percent-encoding`, { path: event.rawPath });
  const headers = lowerHeaders(event.headers);
  const req: ApiRequest = {
    route: match.route,
    params: match.params,
    query: { ...(event.queryStringParameters ?? {}) },
    headers,
    body: undefined,
    requestId: event.requestContext.requestId,
    lambda,
  };
  if (match.route.role !== null) {
    // Token mode's one principal is an admin: it needs no grants, and local mode no table read per request.
    req.principal = authenticate(headers, event.requestContext, env, env.authMode === 'token' ? [] : await effectiveGrants());
    authorize(req.principal, match.route.role, scopeName(match.route, match.params));
  }
  req.body = parseBody(event);
  return req;
}

type ApiMiddleware = middy.MiddlewareObj<ApiEvent, APIGatewayProxyStructuredResultV2, Error, Context>;

/**
 * Powertools' handler segment, with two choices made: responses are not recorded (they carry presigned
 * URLs, bearer credentials, and a thousand part URLs overflow a segment), and a request refused with a 4xx
 * closes its segment as a response: X-Ray would flag the caller's mistake as the service's fault. Without
 * the tracer in the bundle (lib/registry.ts `tracing`), no middleware: middy refuses an empty one at load.
 */
export function traceHandler(traced = handlerSegment): ApiMiddleware[] {
  if (!traced) return [];
  return [
    {
      before: traced.before,
      after: traced.after,
      onError: (request) => ((request.response?.statusCode ?? 500) < 500 ? traced.after : traced.onError)?.(request),
    },
  ];
}

/**
 * Builds a group's Lambda handler. Every route of the group must have a handler (checked at module load),
 * and every response carries `x-request-id`.
 */
export function createApi(group: RouteGroup, handlers: Partial<Record<RouteId, RouteHandler>>) {
  const missing = (ROUTES as readonly Route[]).filter((r) => r.group === group && !handlers[r.id as RouteId]).map((r) => r.id);
  if (missing.length > 0) throw new Error(`group ${group} has no handler for ${missing.join(', ')}`);

  const core = async (event: ApiEvent, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    const req = await toRequest(event, group, context);
    tracer?.putAnnotation('route', req.route.id);
    const handler = handlers[req.route.id as RouteId] as RouteHandler;
    const result = await handler(req);
    return {
      statusCode: result.status,
      headers: { ...(result.body !== undefined ? JSON_HEADERS : {}), ...result.headers },
      ...(result.body !== undefined ? { body: JSON.stringify(result.body) } : {}),
    };
  };

  // Registered last, the error mapper's onError runs first: metrics and the trace see the mapped response.
  return middy<ApiEvent, APIGatewayProxyStructuredResultV2, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(traceHandler())
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use({
      before: (request) => {
        logger.appendKeys({ requestId: request.event.requestContext.requestId, route: `${request.event.requestContext.http.method} ${request.event.rawPath}` });
      },
      after: (request) => {
        const id = request.event.requestContext.requestId;
        request.response = { ...request.response, headers: { ...request.response?.headers, 'x-request-id': id } };
      },
      onError: (request) => {
        const id = request.event.requestContext.requestId;
        const res = errorResponse(request.error, id);
        request.response = { ...res, headers: { ...res.headers, 'x-request-id': id } };
      },
    })
    .handler(core);
}
