/**
 * The console's sign-in as deployed (local/console/auth.js), in Chromium against a real local registry and a
 * stand-in OpenID provider: discovery, the authorization request with an S256 challenge, the code exchange
 * whose verifier the provider checks against that challenge, and the API called with the token it issued.
 * The stack writes /console/config.json; here the browser is answered that file by Playwright, since local
 * mode has none. The provider hands out the local admin token as its ID token, which the local API accepts.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocal, type LocalRegistry } from '../../local/server.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CLIENT_ID = 'arca-console';

interface Exchange {
  form: Record<string, string>;
  challengeMatched: boolean;
}

let registry: LocalRegistry;
let dataDir: string;
let provider: Server;
let issuer: string;
const authorizeRequests: Record<string, string>[] = [];
const exchanges: Exchange[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'arca-signin-'));
  registry = await startLocal({ dataDir, port: 0, inMemory: true });
  const created = await fetch(`${registry.url}/v1/assets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${registry.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'signin/visible-model', type: 'model' }),
  });
  expect(created.status).toBe(201);

  const challenges = new Map<string, string>();
  provider = createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const cors = { 'access-control-allow-origin': registry.url, 'content-type': 'application/json' };
    if (url.pathname === '/.well-known/openid-configuration') {
      res.writeHead(200, cors).end(JSON.stringify({ issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token` }));
    } else if (url.pathname === '/authorize') {
      const params = Object.fromEntries(url.searchParams);
      authorizeRequests.push(params);
      const code = `code-${authorizeRequests.length}`;
      challenges.set(code, params.code_challenge ?? '');
      const back = new URL(params.redirect_uri ?? '');
      back.search = new URLSearchParams({ code, state: params.state ?? '' }).toString();
      res.writeHead(302, { location: back.toString() }).end();
    } else if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const form = Object.fromEntries(new URLSearchParams(body));
        const challengeMatched = createHash('sha256').update(form.code_verifier ?? '').digest('base64url') === challenges.get(form.code ?? '');
        exchanges.push({ form, challengeMatched });
        const ok = challengeMatched && form.client_id === CLIENT_ID && form.grant_type === 'authorization_code';
        res.writeHead(ok ? 200 : 400, cors).end(JSON.stringify(ok ? { id_token: registry.token, expires_in: 3600 } : { error: 'invalid_grant' }));
      });
    } else res.writeHead(404, cors).end('{}');
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => provider?.close(resolve));
  await registry?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('console sign-in (authorization code + PKCE)', () => {
  let context: BrowserContext | undefined;
  let profile: string | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return;
    profile = await mkdtemp(join(tmpdir(), 'arca-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    await context.route('**/console/config.json', (route) => route.fulfill({ json: { issuer, clientId: CLIENT_ID, scopes: ['openid', 'email'] } }));
  });

  afterAll(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it.skipIf(!existsSync(CHROMIUM))('signs in at the issuer, exchanges the code with its verifier, and lists assets with the token (needs /usr/bin/chromium)', async () => {
    const page = context!.pages()[0] ?? (await context!.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${registry.url}/#/`);
    await page.waitForSelector('text=signin/visible-model');

    expect(authorizeRequests).toHaveLength(1);
    const asked = authorizeRequests[0]!;
    expect(asked).toMatchObject({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: `${registry.url}/`, scope: 'openid email', code_challenge_method: 'S256' });
    expect(asked.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(asked.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.challengeMatched).toBe(true);
    expect(exchanges[0]!.form).toMatchObject({ grant_type: 'authorization_code', code: 'code-1', redirect_uri: `${registry.url}/`, client_id: CLIENT_ID });
    // The code leaves the address bar; the token is the issuer's (session storage), not a typed one.
    expect(new URL(page.url()).search).toBe('');
    expect(await page.evaluate(() => localStorage.getItem('arca-token'))).toBeNull();
    expect(await page.isVisible('#login')).toBe(false);
    expect(pageErrors).toEqual([]);

    // A reload keeps the session: no second trip to the issuer.
    await page.reload();
    await page.waitForSelector('text=signin/visible-model');
    expect(authorizeRequests).toHaveLength(1);
  });

  it.skipIf(!existsSync(CHROMIUM))('refuses a code this tab did not ask for (state mismatch) and says so', async () => {
    const page = await context!.newPage();
    await page.goto(`${registry.url}/?code=stolen&state=forged`);
    await expect.poll(() => page.locator('#msg').textContent()).toMatch(/does not match a sign-in started here/);
    expect(exchanges.filter((e) => e.form.code === 'stolen')).toEqual([]);
    expect(await page.isVisible('#login')).toBe(true);
  });
});
