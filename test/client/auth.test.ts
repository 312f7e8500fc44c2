import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcaClient } from '../../client/client.ts';
import { regionFromUrl } from '../../client/http.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session' };
let server: http.Server;
let url: string;
const seen: { method: string; path: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, path: req.url!, headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[]}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

describe('authentication', () => {
  it('local mode: a bearer token', async () => {
    await new ArcaClient({ url, token: 'tok' }).listAssets({ limit: 1 });
    expect(seen.at(-1)!.headers.authorization).toBe('Bearer tok');
  });

  it('deployed: SigV4 for execute-api that an independent signer reproduces, query and body included', async () => {
    const client = new ArcaClient({ url, auth: 'sigv4', region: 'eu-west-1', credentials: async () => credentials });
    await client.call('POST', '/v1/assets/fraud/xgb/-/versions', { query: { a: 'b c' }, body: { files: [] } });
    const req = seen.at(-1)!;
    expect(req.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/);
    expect(req.headers['x-amz-security-token']).toBe('session');

    const u = new URL(req.path, url);
    const xAmzDate = req.headers['x-amz-date'] as string;
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(req.headers.authorization!)![1]!.split(';');
    const headers = Object.fromEntries(signedHeaders.map((h) => [h, String(req.headers[h])]));
    const signingDate = new Date(`${xAmzDate.slice(0, 4)}-${xAmzDate.slice(4, 6)}-${xAmzDate.slice(6, 8)}T${xAmzDate.slice(9, 11)}:${xAmzDate.slice(11, 13)}:${xAmzDate.slice(13, 15)}Z`);
    const expected = await new SignatureV4({ service: 'execute-api', region: 'eu-west-1', credentials, sha256: Sha256 }).sign(
      { method: 'POST', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: u.pathname, query: Object.fromEntries(u.searchParams), headers, body: req.body },
      { signingDate },
    );
    expect(req.headers.authorization).toBe(expected.headers.authorization);
  });

  it('reads the region from API Gateway and Lambda URL hosts', () => {
    expect(regionFromUrl('https://abc123.execute-api.eu-central-1.amazonaws.com')).toBe('eu-central-1');
    expect(regionFromUrl('https://xyz.lambda-url.us-west-2.on.aws/')).toBe('us-west-2');
    expect(regionFromUrl('https://arca.example.com')).toBeUndefined();
  });

  it('asks for a region it cannot tell', async () => {
    const client = new ArcaClient({ url: 'https://arca.example.com', auth: 'sigv4', credentials: async () => credentials });
    await expect(client.listAssets()).rejects.toThrow(/cannot tell the AWS region of https:\/\/arca.example.com: pass --region or set AWS_REGION/);
  });
});
