/**
 * Local mode's API Gateway: the HTTP API v2 event built from a request, the group picked from the route
 * table, and the structured result written back.
 */
import net, { type AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, formatRequestLine, MAX_BUFFERED_BODY, toApiGatewayEvent, type ApiHandler, type RequestLogEntry } from '../../../local/http.ts';

const NOW = new Date('2026-03-04T05:06:07.890Z');

describe('toApiGatewayEvent', () => {
  it('builds a payload format 2.0 event with the greedy route key, raw path, lower-cased headers and cookies', () => {
    const event = toApiGatewayEvent(
      {
        method: 'GET',
        url: '/v1/resolve/fraud/xgb:%5E1.2/sub/path?stage=published&tag=a&tag=b',
        headers: { Host: '127.0.0.1:4100', 'X-Custom': 'v', cookie: 'a=1; b=2', 'user-agent': 'curl/8' },
        body: Buffer.alloc(0),
        sourceIp: '127.0.0.1',
      },
      NOW,
      'req-1',
    );
    expect(event).toEqual({
      version: '2.0',
      routeKey: 'GET /v1/resolve/{proxy+}',
      rawPath: '/v1/resolve/fraud/xgb:%5E1.2/sub/path',
      rawQueryString: 'stage=published&tag=a&tag=b',
      cookies: ['a=1', 'b=2'],
      headers: { host: '127.0.0.1:4100', 'x-custom': 'v', 'user-agent': 'curl/8' },
      queryStringParameters: { stage: 'published', tag: 'a,b' },
      pathParameters: { proxy: 'fraud/xgb:^1.2/sub/path' },
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: '127.0.0.1:4100',
        domainPrefix: '127',
        http: { method: 'GET', path: '/v1/resolve/fraud/xgb:%5E1.2/sub/path', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'curl/8' },
        requestId: 'req-1',
        routeKey: 'GET /v1/resolve/{proxy+}',
        stage: '$default',
        time: '04/Mar/2026:05:06:07 +0000',
        timeEpoch: NOW.getTime(),
      },
      isBase64Encoded: false,
    });
  });

  it('keeps JSON bodies as text and base64-encodes binary ones; static routes keep their path as key', () => {
    const json = toApiGatewayEvent({ method: 'POST', url: '/v1/assets', headers: { 'content-type': 'application/json; charset=utf-8' }, body: Buffer.from('{"a":1}'), sourceIp: '::1' }, NOW);
    expect(json).toMatchObject({ routeKey: 'POST /v1/assets', body: '{"a":1}', isBase64Encoded: false });
    expect(json.pathParameters).toBeUndefined();
    expect(json.queryStringParameters).toBeUndefined();

    const bin = toApiGatewayEvent({ method: 'POST', url: '/v1/assets', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 255]), sourceIp: '::1' }, NOW);
    expect(bin).toMatchObject({ body: 'AP8=', isBase64Encoded: true });
  });

  it('does not resolve dot segments, and gives unknown routes the $default key', () => {
    const event = toApiGatewayEvent({ method: 'GET', url: '/v1/nothing/%2e%2e/here', headers: {}, body: Buffer.alloc(0), sourceIp: '::1' }, NOW);
    expect(event).toMatchObject({ routeKey: '$default', rawPath: '/v1/nothing/%2e%2e/here' });
  });
});

describe('the local API server', () => {
  const calls: { group: string; event: APIGatewayProxyEventV2; context: Context }[] = [];
  const record =
    (group: string, result: Awaited<ReturnType<ApiHandler>>): ApiHandler =>
    async (event, context) => {
      calls.push({ group, event, context });
      if (event.rawPath === '/v1/assets/boom') throw new Error('boom');
      return result;
    };
  const errors: unknown[] = [];
  const server = createApiServer({
    handlers: {
      read: record('read', { statusCode: 404, headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'r' }, body: '{"error":{}}', cookies: ['s=1'] }),
      write: record('write', { statusCode: 201, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([1, 2, 3]).toString('base64'), isBase64Encoded: true }),
    },
    consoleHtml: '<h1>console</h1>',
    onError: (e) => errors.push(e),
    onRequest: (e) => requests.push(e),
  });
  const requests: RequestLogEntry[] = [];
  let base: string;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('sends a route to its group with a Lambda context, and writes status, headers, cookies and body back', async () => {
    const res = await fetch(`${base}/v1/assets/a/b/-/versions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"files":[]}' });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from([1, 2, 3]));
    const call = calls.at(-1)!;
    expect(call.group).toBe('write');
    expect(call.event).toMatchObject({ routeKey: 'POST /v1/assets/{proxy+}', body: '{"files":[]}', pathParameters: { proxy: 'a/b/-/versions' } });
    expect(call.context).toMatchObject({ functionName: 'arca-local-write', awsRequestId: call.event.requestContext.requestId });
    expect(call.context.getRemainingTimeInMillis()).toBeGreaterThan(20_000);

    const read = await fetch(`${base}/v1/assets/a`);
    expect(read.status).toBe(404);
    expect(read.headers.get('x-request-id')).toBe('r');
    expect(read.headers.get('set-cookie')).toBe('s=1');
    expect(await read.text()).toBe('{"error":{}}');
  });

  it('logs one line per request: request id, method, path without the query, status, time', async () => {
    const logged = (n: number) => new Promise<RequestLogEntry[]>((r) => setImmediate(() => r(requests.slice(-n))));
    await (await fetch(`${base}/v1/assets/a?cursor=secret`)).text();
    const tooBig = await fetch(`${base}/v1/assets`, { method: 'POST', body: 'x'.repeat(MAX_BUFFERED_BODY + 1) });
    const tooBigId = ((await tooBig.json()) as { error: { requestId: string } }).error.requestId;
    await (await fetch(`${base}/`)).text();
    const [read, refused, page] = await logged(3);
    expect(read).toMatchObject({ requestId: 'r', method: 'GET', path: '/v1/assets/a', status: 404 });
    expect(read!.ms).toBeGreaterThanOrEqual(0);
    expect(refused).toMatchObject({ requestId: tooBigId, method: 'POST', path: '/v1/assets', status: 413 });
    expect(page).toMatchObject({ requestId: '-', path: '/', status: 200 });
    expect(formatRequestLine({ requestId: 'r', method: 'GET', path: '/v1/assets/a', status: 404, ms: 3 })).toBe('r GET /v1/assets/a 404 3ms');
  });

  it('sends unknown routes to a group handler, so the 404 has the API error shape', async () => {
    const res = await fetch(`${base}/v2/unknown`, { method: 'DELETE' });
    expect(res.status).toBe(404);
    expect(calls.at(-1)).toMatchObject({ group: 'read', event: { routeKey: '$default', rawPath: '/v2/unknown' } });
  });

  it('answers 413 in the API error shape beyond the buffering cap, without calling a handler', async () => {
    const before = calls.length;
    const res = await fetch(`${base}/v1/assets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(MAX_BUFFERED_BODY + 1) });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error).toMatchObject({ code: 'PayloadTooLarge' });
    expect(res.headers.get('x-request-id')).toBe(body.error.requestId);
    expect(calls.length).toBe(before);
  });

  it('answers a failing handler as API Gateway does: 500 Internal Server Error, reported', async () => {
    const res = await fetch(`${base}/v1/assets/boom`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'Internal Server Error' });
    expect(errors).toHaveLength(1);
  });

  /** Writes `head` on a fresh connection and returns everything the server sends before it closes. */
  async function rawExchange(head: Buffer): Promise<string> {
    const { port } = server.address() as AddressInfo;
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    await new Promise<void>((r) => socket.once('connect', r));
    socket.write(head);
    await new Promise<void>((r) => socket.once('close', () => r()));
    return Buffer.concat(chunks).toString('latin1');
  }

  it.each([
    ['raw non-ASCII in the URL', Buffer.concat([Buffer.from('GET /v1/assets/'), Buffer.from([0xc3, 0xa9]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')])],
    ['a bad method', Buffer.from('FETCH(/ /v1/assets HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['a control character in a header', Buffer.from('GET /v1/assets HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n')],
  ])('answers a request the HTTP parser refuses (%s) with a 400 in the API error shape and x-request-id', async (_what, head) => {
    const before = calls.length;
    const response = await rawExchange(head);
    const [headText = '', body = ''] = response.split('\r\n\r\n');
    expect(headText).toMatch(/^HTTP\/1\.1 400 /);
    const requestId = /\r\nx-request-id: ([\w-]+)/i.exec(headText)?.[1];
    expect(requestId).toBeDefined();
    expect(JSON.parse(body)).toEqual({ error: { code: 'ValidationError', message: expect.stringMatching(/malformed/), requestId } });
    expect(calls.length).toBe(before);
  });

  it('serves the console page at /', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toBe('<h1>console</h1>');
  });
});
