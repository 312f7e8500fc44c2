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
  let shots: string | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return;
    profile = await mkdtemp(join(tmpdir(), 'arca-chromium-'));
    // Screenshots stay out of git: the folder is printed so a reader can look at them.
    shots = await mkdtemp(join(tmpdir(), 'arca-console-shots-'));
    process.stderr.write(`console screenshots: ${shots}\n`);
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
    expect(await page.textContent('td.sha code')).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(await page.textContent('main')).toMatch(/auc\s*0\.91/);
    expect(await page.textContent('main')).toContain('"depth": 6');
    expect(await page.textContent('main table tbody')).toContain('model.pkl');

    // The asset page lists the version with its status, formats, alias and creator; injected markup stays text.
    await page.click('#crumbs a:text-is("churn-model")');
    await page.waitForSelector('td .status.published');
    const row = await page.textContent('main table tbody tr');
    expect(row).toMatch(/1\.0\.0.*published.*pkl.*production.*admin/s);
    expect(await page.locator('main .md img').count()).toBe(0);

    // Search and sort on the list.
    await page.goto(`${registry.url}/#/?q=churn&sort=updated&order=desc`);
    await page.waitForSelector('main a:text("demo/churn-model")');
    expect(await page.inputValue('[name=sort]')).toBe('updated');
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
    await page.click('#crumbs a:text-is("churn-model")');
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

  /** A screenshot of the whole page, and what it shows: text line boxes that overlap, and how wide the page is. */
  const shoot = async (page: Page, label: string) => {
    const png = await page.screenshot({ path: join(shots!, `${label}.png`), fullPage: true });
    // Runs in the page (as a string: this project's TypeScript has no DOM types). Line boxes of each visible text node.
    const layout = (await page.evaluate(`(() => {
      const boxes = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (!n.textContent.trim() || el.closest('dialog:not([open]), select, datalist, svg') || !el.checkVisibility({ visibilityProperty: true })) continue;
        const range = document.createRange();
        range.selectNodeContents(n);
        for (const r of range.getClientRects()) if (r.width > 0 && r.height > 0) boxes.push({ text: n.textContent.trim().slice(0, 30), x: r.x + scrollX, y: r.y + scrollY, w: r.width, h: r.height });
      }
      const overlaps = [];
      for (let i = 0; i < boxes.length; i++)
        for (let j = i + 1; j < boxes.length; j++) {
          const [a, b] = [boxes[i], boxes[j]];
          const dx = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
          const dy = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
          if (dx > 2 && dy > 2) overlaps.push('"' + a.text + '" overlaps "' + b.text + '"');
        }
      return { overlaps, boxes: boxes.length, scrollWidth: document.documentElement.scrollWidth, width: innerWidth, text: document.body.innerText };
    })()`)) as { overlaps: string[]; boxes: number; scrollWidth: number; width: number; text: string };
    // The PNG's own width (IHDR, bytes 16–19): a full-page shot grows wider than the viewport when the page scrolls sideways.
    return { ...layout, pngWidth: png.readUInt32BE(16) };
  };
  const checkLayout = (shot: Awaited<ReturnType<typeof shoot>>) => {
    expect(shot.boxes).toBeGreaterThan(5);
    expect(shot.overlaps).toEqual([]);
    expect(shot.scrollWidth).toBe(shot.width);
    expect(shot.pngWidth).toBe(shot.width);
  };

  it.skipIf(!existsSync(CHROMIUM))('shows audit trail, alias history, snippets, metrics compared, edits and deletion, laid out at 1280 and 420 px (needs /usr/bin/chromium)', async () => {
    const { ArcaClient } = await import('../../client/client.ts');
    const client = new ArcaClient({ url: registry.url, token: registry.token, cacheDir: join(dataDir, 'views-cache') });
    const file = join(dataDir, 'views.bin');
    await writeFile(file, 'view bytes');
    const metrics = [{ auc: 0.81, loss: 0.4 }, { auc: 0.86, loss: 0.3 }, { auc: 0.84, loss: 0.35 }];
    for (const [i, m] of metrics.entries()) await client.push('team/fraud-model', [file], { version: `1.${i}.0`, metrics: m });
    await client.setAlias('team/fraud-model', 'prod', '1.0.0');
    await new Promise((r) => setTimeout(r, 30));
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 30));
    await client.setAlias('team/fraud-model', 'prod', '1.1.0');
    await client.setAlias('team/fraud-model', 'old', '1.0.0');
    await client.deleteAlias('team/fraud-model', 'old');
    await client.deleteVersion('team/fraud-model', '1.2.0');
    client.close();

    const page = await context!.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await context!.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: registry.url });
    await page.goto(`${registry.url}/`);
    await page.evaluate((t) => localStorage.setItem('arca-token', t), registry.token);
    for (const width of [1280, 420]) {
      await page.setViewportSize({ width, height: 900 });

      // The asset page: breadcrumb, alias history, the at-time answer; deleted versions only on request.
      await page.goto(`${registry.url}/#/assets/team/fraud-model`);
      await page.waitForSelector('#history-prod');
      expect(await page.textContent('#crumbs')).toBe('Assets›team/›fraud-model');
      expect(await page.getAttribute('#crumbs a:text-is("team/")', 'href')).toBe('#/?prefix=team%2F');
      expect(await page.textContent('#history-prod tbody')).toMatch(/1\.0\.0 → 1\.1\.0.*new → 1\.0\.0/s);
      expect(await page.locator('#versions tbody tr').count()).toBe(2);
      await page.fill('#alias-at [name=at]', between);
      await page.click('#alias-at button');
      await expect.poll(() => page.textContent('#alias-at-answer')).toMatch(/prod pointed to 1\.0\.0 \(set .* by local-admin\)/);
      await page.fill('#alias-at [name=alias]', 'old');
      await page.fill('#alias-at [name=at]', new Date().toISOString());
      await page.click('#alias-at button');
      await expect.poll(() => page.textContent('#alias-at-answer')).toMatch(/old had been deleted/);
      checkLayout(await shoot(page, `asset-${width}`));
      await page.click('#toggle-deleted');
      await page.waitForSelector('#versions .status.deleted');
      expect(await page.textContent('#versions tbody')).toMatch(/1\.2\.0\s*deleted/);

      // The version page: snippets and the full digest copy exactly; the audit trail names this version's actions only.
      await page.goto(`${registry.url}/#/assets/team/fraud-model/-/versions/1.0.0`);
      await page.waitForSelector('#audit tbody tr');
      expect(await page.textContent('#crumbs')).toBe('Assets›team/›fraud-model›1.0.0');
      expect(await page.textContent('#use-cli code')).toBe('arca pull team/fraud-model:1.0.0 -o ./fraud-model');
      expect(await page.textContent('#use-python code')).toBe('import arca\npath = arca.Client().pull("team/fraud-model:1.0.0", "fraud-model/")');
      await page.click('#use-cli button');
      expect(await page.evaluate('navigator.clipboard.readText()')).toBe('arca pull team/fraud-model:1.0.0 -o ./fraud-model');
      await page.click('td.sha button');
      expect(await page.evaluate('navigator.clipboard.readText()')).toBe(createHash('sha256').update('view bytes').digest('hex'));
      const trail = (await page.textContent('#audit tbody'))!;
      expect(trail).toMatch(/alias\.delete.*old: 1\.0\.0 → deleted/s);
      expect(trail).toMatch(/alias\.move.*prod: 1\.0\.0 → 1\.1\.0/s);
      expect(trail).toMatch(/alias\.move.*prod: new → 1\.0\.0/s);
      expect(trail).toContain('version.create');
      expect(trail).not.toContain('1.2.0');
      const version = await shoot(page, `version-${width}`);
      checkLayout(version);
      expect(version.text).toContain('arca pull team/fraud-model:1.0.0');

      // Compare: a table of every live version's metrics and one chart per metric.
      await page.goto(`${registry.url}/#/assets/team/fraud-model/-/compare`);
      await page.waitForSelector('#compare tbody tr');
      expect((await page.locator('#compare tbody tr').allTextContents()).map((t) => t.replace(/\s+/g, ' '))).toEqual(['1.0.00.810.4', '1.1.00.860.3']);
      expect(await page.locator('figure.chart circle').count()).toBe(4);
      expect(await page.textContent('figure.chart figcaption')).toBe('auc: 0.81 – 0.86 over 1.0.0 … 1.1.0');
      checkLayout(await shoot(page, `compare-${width}`));

      // An error replaces the page: no banner above the previous view.
      await page.goto(`${registry.url}/#/assets/team/nope`);
      await expect.poll(() => page.textContent('#msg')).toMatch(/404 NotFound/);
      expect(await page.textContent('main')).toBe('Assets›team/›nope');
      checkLayout(await shoot(page, `error-${width}`));
      // The check can fail: a line of text laid over the header is reported.
      await page.evaluate(`{
        const probe = document.createElement('p');
        probe.id = 'probe';
        probe.textContent = 'overlap probe';
        probe.style.cssText = 'position:absolute;top:0;left:0;margin:.6rem 1rem';
        document.body.append(probe);
      }`);
      expect((await shoot(page, `probe-${width}`)).overlaps.join()).toContain('overlap probe');
      await page.evaluate("document.getElementById('probe').remove()");
    }

    // Edit description and tags, then delete the asset (it has live versions: a reason is required).
    await page.goto(`${registry.url}/#/assets/team/fraud-model`);
    await page.click('#edit-asset summary');
    await page.fill('#edit-asset [name=description]', 'Fraud **scorer**');
    await page.fill('#edit-asset [name=tags]', 'fraud, tabular');
    await page.click('#edit-asset button');
    await expect.poll(() => page.textContent('#msg')).toContain('Saved team/fraud-model.');
    await page.waitForSelector('main .md strong:text("scorer")');
    expect(await page.textContent('#asset-meta')).toMatch(/fraud\s*tabular/);
    await page.click('#delete-asset');
    await page.fill('#confirm-reason', 'superseded by team/fraud-v2');
    await confirm(page, /still has 2 live version/);
    await page.waitForURL(/#\/$/);
    await expect.poll(() => page.textContent('#msg')).toContain('Deleted the asset team/fraud-model.');
    const audit = (await (await fetch(`${registry.url}/v1/audit?asset=team/fraud-model`, { headers: { authorization: `Bearer ${registry.token}` } })).json()) as { items: { action: string; reason?: string }[] };
    // The deletion's alias removals share its transaction and timestamp, so the order among them is not defined.
    expect(audit.items.find((e) => e.action === 'asset.delete')).toMatchObject({ reason: 'superseded by team/fraud-v2' });
    expect(audit.items.map((e) => e.action)).toContain('asset.edit');
    expect(pageErrors).toEqual([]);
  });
});
