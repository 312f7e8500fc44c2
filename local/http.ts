/**
 * Local mode's API Gateway: turns each HTTP request into an HTTP API (payload format 2.0) event, picks the
 * function group with the same route table the gateway is built from, calls that group's Lambda handler and
 * writes its structured result back, as API Gateway does.
 */
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { ErrorCode } from '../contract/errors.ts';
import { matchRoute, type RouteGroup } from '../contract/routes.ts';

export type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2 | string | object | undefined>;

/** Beyond this the body is not buffered: the request is answered 413 here, in the API's error shape. */
export const MAX_BUFFERED_BODY = 2 * 1024 * 1024;
/** The Lambda timeout the CDK stack gives API functions; reported by `context.getRemainingTimeInMillis`. */
const FUNCTION_TIMEOUT_MS = 29_000;

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

export interface RawRequest {
  method: string;
  /** Path and query as received (still percent-encoded). */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  sourceIp: string;
}

/** The HTTP API route key of a path: cut at its first parameter and ended with a greedy `{proxy+}`, as in contract/routes.ts. */
function gatewayRoute(method: string, rawPath: string): { routeKey: string; proxy?: string } {
  const match = matchRoute(method, rawPath);
  if (!match) return { routeKey: '$default' };
  const cut = match.route.path.indexOf('{');
  if (cut < 0) return { routeKey: `${method} ${match.route.path}` };
  return { routeKey: `${method} ${match.route.path.slice(0, cut)}{proxy+}`, proxy: safeDecode(rawPath.slice(cut)) };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function clfTime(d: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Builds the API Gateway HTTP API v2 event for a request, as the gateway would deliver it. */
export function toApiGatewayEvent(req: RawRequest, now: Date = new Date(), requestId: string = randomUUID()): APIGatewayProxyEventV2 {
  // Split by hand: WHATWG URL parsing would resolve dot segments and re-encode the path.
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQueryString = q < 0 ? '' : req.url.slice(q + 1);
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower === 'cookie') {
      cookies = (Array.isArray(value) ? value.join('; ') : value).split(/;\s*/).filter(Boolean);
      continue;
    }
    headers[lower] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) query[key] = key in query ? `${query[key]},${value}` : value;
  const { routeKey, proxy } = gatewayRoute(req.method, rawPath);
  const host = headers.host ?? 'localhost';
  const text = TEXT_TYPES.test(headers['content-type'] ?? '');

  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(proxy !== undefined ? { pathParameters: { proxy } } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: {
        method: req.method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: req.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    ...(req.body.length > 0 ? { body: text ? req.body.toString('utf8') : req.body.toString('base64') } : {}),
    isBase64Encoded: req.body.length > 0 && !text,
  };
}

/** A Lambda context for one invocation of a group's function. */
export function lambdaContext(group: RouteGroup, requestId: string): Context {
  const functionName = `arca-local-${group}`;
  const deadline = Date.now() + FUNCTION_TIMEOUT_MS;
  const unsupported = () => {
    throw new Error('callback-style completion is not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/**
 * Writes a handler's result the way an HTTP API does with payload format 2.0: a structured result as given;
 * anything else (a string or an object without `statusCode`) as a 200 JSON body.
 */
export function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2 | string | object | undefined): void {
  const structured =
    typeof result === 'object' && result !== null && 'statusCode' in result
      ? (result as APIGatewayProxyStructuredResultV2)
      : { statusCode: 200, headers: { 'content-type': 'application/json' }, body: typeof result === 'string' ? result : JSON.stringify(result ?? null) };
  const body = structured.body === undefined ? Buffer.alloc(0) : Buffer.from(structured.body, structured.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(structured.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (structured.cookies?.length) headers['set-cookie'] = structured.cookies;
  headers['content-length'] = String(body.length);
  writeHeaders(res, structured.statusCode ?? 200, headers);
  res.end(body);
}

/** Sets the headers one by one before writing them: the access log reads `x-request-id` back with getHeader. */
function writeHeaders(res: ServerResponse, status: number, headers: Record<string, string | string[] | number>): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.writeHead(status);
}

function apiError(code: ErrorCode, message: string): { requestId: string; body: string } {
  const requestId = randomUUID();
  return { requestId, body: JSON.stringify({ error: { code, message, requestId } }) };
}

function sendApiError(res: ServerResponse, status: number, code: ErrorCode, message: string, extra: Record<string, string> = {}): void {
  const { requestId, body } = apiError(code, message);
  writeHeaders(res, status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': requestId, ...extra });
  res.end(body);
}

/**
 * A request Node's parser refuses (raw non-ASCII in the target, a bad method, control characters in a header)
 * never reaches a handler; Node's default answer is a bare 400. Answer it in the API's error shape instead,
 * written on the socket since there is no response object, and close: the stream cannot be re-synchronised.
 */
function answerUnparsable(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const { requestId, body } = apiError('ValidationError', `malformed HTTP request (${error.code ?? 'parse error'})`);
  socket.end(
    `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `x-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Reads the body up to `limit` bytes; `undefined` when it is longer (the rest is drained, never buffered). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export interface ApiServerOptions {
  handlers: Record<RouteGroup, ApiHandler>;
  /** Served at `/` (the console). */
  consoleHtml: string;
  /** The console's other files (its script and stylesheet), served at `/console/<name>`: name → content. */
  consoleAssets?: Record<string, string>;
  /** Where a handler's unexpected failure is reported (API Gateway answers 500 and logs it in CloudWatch). */
  onError?: (error: unknown) => void;
  /** Called once per request when its response is done (or the client went away): the access log. */
  onRequest?: (entry: RequestLogEntry) => void;
}

export interface RequestLogEntry {
  /** The response's `x-request-id` (the id the handler logged under, and the API's error bodies carry); `-` for the console's files. */
  requestId: string;
  method: string;
  /** The path without its query (a cursor or filter is not needed to find the request). */
  path: string;
  /** `0` when the client went away before an answer. */
  status: number;
  ms: number;
}

/** One access-log line: `<request id> <method> <path> <status> <ms>ms`. */
export const formatRequestLine = (e: RequestLogEntry): string => `${e.requestId} ${e.method} ${e.path} ${e.status === 0 ? 'aborted' : e.status} ${e.ms}ms`;

function logWhenDone(req: IncomingMessage, res: ServerResponse, onRequest: (entry: RequestLogEntry) => void): void {
  const started = performance.now();
  res.once('close', () => {
    const id = res.getHeader('x-request-id');
    onRequest({
      requestId: typeof id === 'string' ? id : '-',
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0]!,
      status: res.headersSent ? res.statusCode : 0,
      ms: Math.round(performance.now() - started),
    });
  });
}

export function createApiServer(opts: ApiServerOptions): http.Server {
  const server = http.createServer((req, res) => {
    if (opts.onRequest) logWhenDone(req, res, opts.onRequest);
    void serve(req, res, opts).catch((error: unknown) => {
      opts.onError?.(error);
      if (!res.headersSent) sendApiError(res, 500, 'Internal', 'internal error');
      else res.destroy();
    });
  });
  server.on('clientError', answerUnparsable);
  return server;
}

async function serve(req: IncomingMessage, res: ServerResponse, opts: ApiServerOptions): Promise<void> {
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  if (method === 'GET' && /^\/(index\.html)?(\?|$)/.test(url)) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(opts.consoleHtml) });
    res.end(opts.consoleHtml);
    return;
  }
  const asset = method === 'GET' ? /^\/console\/([\w-]+\.(js|css))(\?|$)/.exec(url) : null;
  if (asset && opts.consoleAssets && Object.hasOwn(opts.consoleAssets, asset[1]!)) {
    const content = opts.consoleAssets[asset[1]!]!;
    const type = asset[2] === 'js' ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8';
    res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(content), 'cache-control': 'no-cache' });
    res.end(content);
    return;
  }
  const body = await readBody(req, MAX_BUFFERED_BODY);
  if (!body) {
    sendApiError(res, 413, 'PayloadTooLarge', `the request body is over ${MAX_BUFFERED_BODY} bytes`, { connection: 'close' });
    return;
  }
  const event = toApiGatewayEvent({ method, url, headers: req.headers, body, sourceIp: req.socket.remoteAddress ?? '127.0.0.1' });
  // Unknown routes still reach a group handler, so their 404 has the API's error shape.
  const group = matchRoute(method, event.rawPath)?.route.group ?? 'read';
  let result: Awaited<ReturnType<ApiHandler>>;
  try {
    result = await opts.handlers[group](event, lambdaContext(group, event.requestContext.requestId));
  } catch (error) {
    // What an HTTP API answers when its integration fails.
    opts.onError?.(error);
    writeResult(res, { statusCode: 500, headers: { 'content-type': 'application/json' }, body: '{"message":"Internal Server Error"}' });
    return;
  }
  writeResult(res, result);
}
