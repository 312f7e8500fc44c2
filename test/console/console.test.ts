/**
 * The web console (local/console/) served by a real local registry: its files over HTTP, then a headless
 * Chromium session that logs in, creates an asset, uploads a version, publishes it, sets an alias and reads it.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocal, type LocalRegistry } from '../../local/server.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CONSOLE_DIR = join(import.meta.dirname, '..', '..', 'local', 'console');

let registry: LocalRegistry;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'arca-console-'));
  registry = await startLocal({ dataDir, port: 0, inMemory: true });
});

afterAll(async () => {
  await registry?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('console files', () => {
  it('serves the page at / and its module and stylesheet with their content types', async () => {
    const page = await fetch(`${registry.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/console/app.js">');
    expect(html).toContain('<link rel="stylesheet" href="/console/console.css">');

    const js = await fetch(`${registry.url}/console/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toBe(await readFile(join(CONSOLE_DIR, 'app.js'), 'utf8'));

    const css = await fetch(`${registry.url}/console/console.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toBe(await readFile(join(CONSOLE_DIR, 'console.css'), 'utf8'));
  });

  it('serves nothing else under /console/ and leaves the API its error shape', async () => {
    const missing = await fetch(`${registry.url}/console/nope.js`, { headers: { authorization: `Bearer ${registry.token}` } });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NotFound');
    const proto = await fetch(`${registry.url}/console/constructor.js`);
    expect(proto.status).not.toBe(200);
  });

  it('never writes markup from strings (no innerHTML, outerHTML, insertAdjacentHTML or document.write)', async () => {
    const js = await readFile(join(CONSOLE_DIR, 'app.js'), 'utf8');
    expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });
});

describe('console in a browser', () => {
  let context: BrowserContext | undefined;
  let profile: string | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return;
    profile = await mkdtemp(join(tmpdir(), 'arca-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1200, height: 1000 } });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  const confirm = async (page: Page, expected: RegExp) => {
    await expect.poll(() => page.locator('#confirm').getAttribute('open')).not.toBeNull();
    expect(await page.locator('#confirm-text').textContent()).toMatch(expected);
    await page.click('#confirm-ok');
  };
  const message = (page: Page) => page.locator('#msg').textContent();

  it.skipIf(!existsSync(CHROMIUM))('logs in, creates an asset, uploads, publishes, sets an alias and reads the version (needs /usr/bin/chromium)', async () => {
    const page = context!.pages()[0] ?? (await context!.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('dialog', (d) => {
      pageErrors.push(`unexpected native dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(`${registry.url}/`);

    // A wrong token: a clear 401 message and the token form again.
    await page.fill('#token', 'arca_wrong');
    await page.click('#login button');
    await expect.poll(() => message(page)).toMatch(/401 Unauthorized/);
    expect(await page.isVisible('#login')).toBe(true);

    await page.fill('#token', registry.token);
    await page.click('#login button');
    await page.waitForSelector('text=No assets match.');
    expect(await page.evaluate(() => localStorage.getItem('arca-token'))).toBe(registry.token);

    // Create an asset whose description tries to inject markup.
    await page.fill('#create-asset [name=name]', 'demo/churn-model');
    await page.selectOption('#create-asset [name=type]', 'model');
    await page.fill('#create-asset [name=description]', 'Churn <img src=x onerror="window.pwned=1"> **model**');
    await page.fill('#create-asset [name=tags]', 'tabular, team:growth');
    await page.click('#create-asset button');
    await page.waitForURL(/#\/assets\/demo\/churn-model$/);
    await page.waitForSelector('text=No versions yet');
    expect(await message(page)).toContain('Created model demo/churn-model.');

    // Upload one small file as a new version, with metadata.
    const bytes = Buffer.from('weights: 0.1 0.2 0.3\n'.repeat(100));
    await page.setInputFiles('#upload [name=files]', { name: 'model.pkl', mimeType: 'application/octet-stream', buffer: bytes });
    await page.fill('#upload [name=description]', '# Churn v1\n\n- trained on **March** data\n- see [docs](https://example.com/d)\n\n<script>window.pwned=2</script>');
    await page.fill('#upload [name=tags]', 'baseline');
    await page.fill('#upload [name=extra]', JSON.stringify({ metrics: { auc: 0.91 }, hyperparameters: { depth: 6 } }));
    await page.click('#upload button');
    await page.waitForURL(/#\/assets\/demo\/churn-model\/-\/versions\/1\.0\.0$/);
    await page.waitForSelector('h1 .status.ready');
    expect(await message(page)).toContain('Uploaded demo/churn-model:1.0.0 — ready.');

    // The download link is a presigned URL serving the same bytes.
    const href = await page.getAttribute('a[download]', 'href');
    expect(href?.startsWith(registry.s3Url)).toBe(true);
    const download = Buffer.from(await (await fetch(href!)).arrayBuffer());
    expect(createHash('sha256').update(download).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));

    // Publish: cancelling changes nothing; confirming publishes.
    await page.click('#publish');
    await page.click('#confirm button[value=cancel]');
    expect(await page.isVisible('h1 .status.ready')).toBe(true);
    await page.click('#publish');
    await confirm(page, /frozen forever/);
    await page.waitForSelector('h1 .status.published');
    expect(await page.isVisible('#publish')).toBe(false);

    // Set an alias from the version page (confirmed).
    await page.fill('#set-alias [name=alias]', 'production');
    await page.click('#set-alias button');
    await confirm(page, /new alias demo\/churn-model:production at 1\.0\.0/);
    await expect.poll(() => message(page)).toContain('demo/churn-model:production → 1.0.0.');
    await page.waitForSelector('#version-meta .chip:text("production")');
    const aliases = (await (await fetch(`${registry.url}/v1/assets/demo/churn-model/-/aliases`, { headers: { authorization: `Bearer ${registry.token}` } })).json()) as { items: { alias: string; version: string }[] };
    expect(aliases.items).toMatchObject([{ alias: 'production', version: '1.0.0' }]);

    // The version page: Markdown rendered safely, metadata, files.
    expect(await page.textContent('.md h1')).toBe('Churn v1');
    expect(await page.textContent('.md strong')).toBe('March');
    expect(await page.getAttribute('.md a', 'href')).toBe('https://example.com/d');
    expect(await page.textContent('.md')).toContain('<script>window.pwned=2</script>');
    expect(await page.locator('.md script').count()).toBe(0);
    const meta = await page.textContent('#version-meta');
    expect(meta).toContain('baseline');
    // Uploaded without params: no paramsHash row (and never a literal "null"); the file's digest is in the files table.
    expect(meta).not.toContain('paramsHash');
    expect(meta).not.toContain('null');
    expect(await page.getAttribute('main table tbody code', 'title')).toMatch(/^[0-9a-f]{64}$/);
    expect(await page.textContent('main')).toMatch(/auc\s*0\.91/);
    expect(await page.textContent('main')).toContain('"depth": 6');
    expect(await page.textContent('main table tbody')).toContain('model.pkl');
    await page.screenshot({ path: '/tmp/arca-console-version.png', fullPage: true });

    // The asset page lists the version with its status, formats, alias and creator; injected markup stays text.
    await page.click('text=← demo/churn-model');
    await page.waitForSelector('td .status.published');
    const row = await page.textContent('main table tbody tr');
    expect(row).toMatch(/1\.0\.0.*published.*pkl.*production.*admin/s);
    expect(await page.locator('main .md img').count()).toBe(0);
    await page.screenshot({ path: '/tmp/arca-console-asset.png', fullPage: true });

    // Search and sort on the list.
    await page.goto(`${registry.url}/#/?q=churn&sort=updated&order=desc`);
    await page.waitForSelector('main a:text("demo/churn-model")');
    expect(await page.inputValue('[name=sort]')).toBe('updated');
    await page.screenshot({ path: '/tmp/arca-console-list.png', fullPage: true });
    await page.goto(`${registry.url}/#/?type=dataset`);
    await page.waitForSelector('text=No assets match.');

    // A second version with the same bytes (already stored: nothing to upload), then move the alias to it.
    await page.goto(`${registry.url}/#/assets/demo/churn-model`);
    await page.setInputFiles('#upload [name=files]', { name: 'model.pkl', mimeType: 'application/octet-stream', buffer: bytes });
    await page.click('#upload button');
    await page.waitForURL(/\/-\/versions\/1\.1\.0$/);
    await page.waitForSelector('h1 .status.ready');
    await page.fill('#set-alias [name=alias]', 'production');
    await page.click('#set-alias button');
    await confirm(page, /Move demo\/churn-model:production from 1\.0\.0 to 1\.1\.0/);
    await page.waitForSelector('#version-meta .chip:text("production")');

    // Deleting a version an alias points to: the API's refusal is shown.
    await page.click('#delete');
    await confirm(page, /can never use the version 1\.1\.0 again/);
    await expect.poll(() => message(page)).toMatch(/409 AliasInUse/);

    // Delete the alias from the asset page, then the version.
    await page.click('text=← demo/churn-model');
    await page.click('main table:has(th:text("alias")) button:text("Delete")');
    await confirm(page, /Delete the alias demo\/churn-model:production \(now at 1\.1\.0\)/);
    await page.waitForSelector('text=No aliases.');
    await page.click('main a:text("1.1.0")');
    await page.click('#delete');
    await confirm(page, /tombstone/);
    await page.waitForURL(/#\/assets\/demo\/churn-model$/);
    await expect.poll(() => message(page)).toContain('Deleted demo/churn-model:1.1.0.');
    expect(await page.locator('main a:text("1.1.0")').count()).toBe(0);

    // Force-deleting the published version asks for a reason and will not go on without one.
    await page.click('main a:text("1.0.0")');
    await page.click('#delete:text("Force-delete")');
    expect(await page.isVisible('#confirm-reason')).toBe(true);
    await page.click('#confirm-ok');
    expect(await page.locator('#confirm').getAttribute('open')).not.toBeNull();
    await page.fill('#confirm-reason', 'trained on leaked labels');
    await confirm(page, /is published\. Force-deleting it/);
    await page.waitForURL(/#\/assets\/demo\/churn-model$/);
    const listed = (await (await fetch(`${registry.url}/v1/assets/demo/churn-model/-/versions?includeDeleted=true`, { headers: { authorization: `Bearer ${registry.token}` } })).json()) as { items: { version: string; status: string; deleteReason?: string }[] };
    expect(listed.items.find((v) => v.version === '1.0.0')).toMatchObject({ status: 'deleted', deleteReason: 'trained on leaked labels' });

    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    expect(pageErrors).toEqual([]);
  });

  it.skipIf(!existsSync(CHROMIUM))('shows a version\'s lineage both ways, linked (needs /usr/bin/chromium)', async () => {
    const { ArcaClient } = await import('../../client/client.ts');
    const client = new ArcaClient({ url: registry.url, token: registry.token, cacheDir: join(dataDir, 'lineage-cache') });
    const file = join(dataDir, 'lineage.bin');
    await writeFile(file, 'lineage bytes');
    await client.push('lin/data', [file], { version: '1.0.0', type: 'dataset' });
    await client.push('lin/model', [file], { version: '1.0.0', records: ['lin/data:1.0.0'] });
    client.close();
    const page = await context!.newPage();
    await page.goto(`${registry.url}/#/assets/lin/model/-/versions/1.0.0`);
    await page.waitForSelector('#upstream a');
    expect(await page.textContent('#upstream')).toBe('lin/data:1.0.0');
    expect(await page.textContent('main')).toContain('No version records this one.');
    await page.click('#upstream a');
    await page.waitForURL(/#\/assets\/lin\/data\/-\/versions\/1\.0\.0$/);
    await page.waitForSelector('#downstream a');
    expect(await page.textContent('#downstream')).toBe('lin/model:1.0.0');
    await page.click('#downstream a');
    await page.waitForSelector('#upstream a');
  });

  it.skipIf(!existsSync(CHROMIUM))('pages through assets with nextCursor (needs /usr/bin/chromium)', async () => {
    const auth = { authorization: `Bearer ${registry.token}`, 'content-type': 'application/json' };
    for (let i = 0; i < 53; i++) {
      const res = await fetch(`${registry.url}/v1/assets`, { method: 'POST', headers: auth, body: JSON.stringify({ name: `bulk/a-${String(i).padStart(2, '0')}`, type: 'dataset' }) });
      expect(res.status).toBe(201);
    }
    const page = await context!.newPage();
    await page.goto(`${registry.url}/#/?prefix=bulk/&order=desc`);
    await page.waitForSelector('main a:text("bulk/a-52")');
    expect(await page.locator('main tbody tr').count()).toBe(50);
    await page.click('button:text("More")');
    await expect.poll(() => page.locator('main tbody tr').count()).toBe(53);
    expect(await page.locator('main tbody tr').last().textContent()).toContain('bulk/a-00');
    expect(await page.isVisible('button:text("More")')).toBe(false);
  });

  it.skipIf(!existsSync(CHROMIUM))('refuses files over the multipart threshold before creating anything (needs /usr/bin/chromium)', async () => {
    const big = join(profile!, 'big.bin');
    await writeFile(big, '');
    await truncate(big, 64 * 1024 * 1024 + 1);
    const page = await context!.newPage();
    await page.goto(`${registry.url}/#/assets/bulk/a-00`);
    await page.setInputFiles('#upload [name=files]', big);
    await page.click('#upload button');
    await expect.poll(() => page.locator('#msg').textContent()).toMatch(/big\.bin \(67108865 bytes\) is over 64\.0 MiB: such files go up in parts.*arca push/);
    const versions = (await (await fetch(`${registry.url}/v1/assets/bulk/a-00/-/versions?includeDeleted=true`, { headers: { authorization: `Bearer ${registry.token}` } })).json()) as { items: unknown[] };
    expect(versions.items).toEqual([]);
  });
});
