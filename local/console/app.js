// Arca console: a hash-routed page over the registry's HTTP API (R-API, R-UI), with the local bearer token.
// Every user-supplied string reaches the DOM as a text node or an attribute value, never parsed as markup.
import { bearerToken, signInError } from './auth.js';

/** Above this size the API wants a multipart upload with part digests (R-UPLOAD); the console refuses such files. */
const MULTIPART_THRESHOLD = 64 * 1024 * 1024;
const NAME_RE = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/;
const VERSION_RE = /^[0-9A-Za-z.+-]+$/;
const $ = (id) => document.getElementById(id);
const view = $('view');
let renders = 0;
let flash = '';

// ---- DOM ----

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false || k === 'value') continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false).map((c) => (c instanceof Node ? c : String(c))));
  if (attrs.value !== undefined) el.value = attrs.value;
  return el;
}
const field = (label, control) => h('label', {}, label, control);
const select = (name, options, value) => h('select', { name, value }, options.map(([v, text]) => h('option', { value: v }, text)));
// Wide tables scroll inside their own box so the page never scrolls sideways on a phone (R-UI).
const table = (heads, body, id) => h('div', { class: 'scroll' }, h('table', { id }, h('thead', {}, h('tr', {}, heads.map((t) => h('th', {}, t)))), body));
const chips = (items) => (items ?? []).map((t) => h('span', { class: 'chip' }, t));
const status = (s) => h('span', { class: `status ${s}` }, s);
const when = (iso) => (iso ? `${iso.slice(0, 19).replace('T', ' ')} UTC` : '—');
const grid = (id, pairs) => h('div', { class: 'grid', id }, pairs.map(([k, v]) => [h('div', {}, k), h('div', {}, v)]));
const firstLine = (text) => {
  const line = (text ?? '').trim().split('\n')[0];
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
};
const json = (o) => h('pre', {}, JSON.stringify(o, null, 2));
const assetHref = (name) => `#/assets/${name}`;
const versionHref = (name, version) => `#/assets/${name}/-/versions/${version}`;
const compareHref = (name) => `#/assets/${name}/-/compare`;

/** A read-only snippet with a copy button; the copied text is exactly what is shown. */
function copyable(text, label, id) {
  const button = h('button', { type: 'button', class: 'copy', title: `Copy ${label}`, 'aria-label': `Copy ${label}` }, 'Copy');
  button.addEventListener('click', () =>
    navigator.clipboard.writeText(text).then(() => say(`Copied ${label}.`, true), () => say(`Copying needs clipboard access: select the ${label} instead.`)));
  return h('div', { class: 'copyable', id }, h('code', {}, text), button);
}

/**
 * Fills a table body a page at a time, with a More button while the API answers a nextCursor. `row` may return
 * null to leave an item out (the version's audit trail filters the asset's entries).
 */
async function pagedRows(url, row, empty, cols) {
  const tbody = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'More');
  const none = h('tr', {}, h('td', { colspan: cols, class: 'muted' }, empty));
  const load = async (cursor) => {
    const page = await api('GET', cursor ? `${url}${url.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}` : url);
    none.remove();
    tbody.append(...page.items.map(row).filter(Boolean));
    if (!tbody.children.length) tbody.append(none);
    more.hidden = !page.nextCursor;
    more.onclick = () => load(page.nextCursor).catch(fail);
  };
  await load();
  return { tbody, more };
}

function size(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

function say(text, ok = false) {
  const msg = $('msg');
  msg.textContent = text;
  msg.className = ok ? 'ok' : '';
  msg.hidden = !text;
}

// ---- minimal safe Markdown: headings, lists, fenced code, paragraphs; inline code, bold, italics, http(s) links ----

const INLINE = /`([^`]+)`|\*\*([^*]+)\*\*|\*([^*]+)\*|\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g;

function inline(text) {
  const nodes = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    nodes.push(text.slice(last, m.index));
    if (m[1]) nodes.push(h('code', {}, m[1]));
    else if (m[2]) nodes.push(h('strong', {}, m[2]));
    else if (m[3]) nodes.push(h('em', {}, m[3]));
    else nodes.push(h('a', { href: m[5], rel: 'noopener noreferrer', target: '_blank' }, m[4]));
    last = m.index + m[0].length;
  }
  nodes.push(text.slice(last));
  return nodes;
}

function markdown(src) {
  const out = h('div', { class: 'md' });
  const lines = src.split(/\r?\n/);
  let para = [];
  let list = null;
  const flush = () => {
    if (para.length) out.append(h('p', {}, inline(para.join(' '))));
    para = [];
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('```')) {
      flush();
      const code = [];
      while (++i < lines.length && !lines[i].startsWith('```')) code.push(lines[i]);
      out.append(h('pre', {}, code.join('\n')));
      continue;
    }
    const head = /^(#{1,3})\s+(.*)$/.exec(line);
    const item = /^\s*[-*]\s+(.*)$/.exec(line);
    if (head) {
      flush();
      out.append(h(`h${head[1].length}`, {}, inline(head[2])));
    } else if (item) {
      if (para.length) flush();
      if (!list) out.append((list = h('ul')));
      list.append(h('li', {}, inline(item[1])));
    } else if (!line.trim()) flush();
    else {
      list = null;
      para.push(line);
    }
  }
  flush();
  return out;
}

// ---- API ----

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Deployed with the stack, the user signs in at the JWT issuer (auth.js); in local mode, the admin token typed in.
const token = () => bearerToken() ?? localStorage.getItem('arca-token') ?? '';

async function api(method, path, body) {
  const headers = { authorization: `Bearer ${token()}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return undefined;
  const data = await res.json().catch(() => ({}));
  if (res.ok) return data;
  throw new ApiError(res.status, data.error?.code ?? 'Error', data.error?.message ?? data.message ?? res.statusText);
}

function fail(error) {
  if (error instanceof ApiError && error.status === 401) {
    showLogin('The token was refused (401 Unauthorized). Enter the admin token that npm start printed (also in .arca/token).');
  } else if (error instanceof ApiError) say(`${error.status} ${error.code}: ${error.message}`);
  else say(error.message ?? String(error));
}

/** A form submit handler: no page reload, the submit button disabled while `fn` runs, failures shown. */
function onSubmit(fn) {
  return async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const button = form.querySelector('button:not([type=button])');
    if (button) button.disabled = true;
    say('');
    try {
      await fn(new FormData(form), form);
    } catch (error) {
      fail(error);
    } finally {
      if (button) button.disabled = false;
    }
  };
}

/** Asks before an irreversible action; resolves `null` when cancelled, else the reason typed ('' when none is asked). */
function confirmAction(title, text, { reason = false } = {}) {
  const dialog = $('confirm');
  const input = $('confirm-reason');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = title;
  $('confirm-reason-label').hidden = !reason;
  input.value = '';
  input.required = reason;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok' ? input.value.trim() : null), { once: true });
  });
}

// ---- routing ----

function go(hash, notice = '') {
  flash = notice;
  if (location.hash === hash) void route();
  else location.hash = hash;
}

function showLogin(message = signInError ?? '') {
  $('login').hidden = false;
  view.replaceChildren();
  say(message);
  $('token').focus();
}

let shown = '';

async function route() {
  const mine = ++renders;
  // A new address never shows the previous page while it loads or fails; a refresh of the same one keeps it.
  if (location.hash !== shown) view.replaceChildren();
  shown = location.hash;
  say(flash, true);
  flash = '';
  if (!token()) return showLogin();
  $('login').hidden = true;
  const [path, query = ''] = location.hash.slice(1).split('?');
  const params = new URLSearchParams(query);
  let m;
  let name;
  let last;
  try {
    let nodes;
    if ((m = /^\/assets\/(.+)\/-\/versions\/([^/]+)$/.exec(path))) {
      [name, last] = [m[1], m[2]];
      nodes = await versionPage(checkName(name), checkVersion(last));
    } else if ((m = /^\/assets\/(.+)\/-\/compare$/.exec(path))) {
      [name, last] = [m[1], 'compare metrics'];
      nodes = await comparePage(checkName(name));
    } else if ((m = /^\/assets\/(.+)$/.exec(path))) {
      name = m[1];
      nodes = await assetPage(checkName(name), params);
    } else nodes = await listPage(params);
    if (mine === renders) view.replaceChildren(crumbs(name, last), ...nodes.flat(Infinity).filter((n) => n !== ''));
  } catch (error) {
    if (mine !== renders) return;
    view.replaceChildren(crumbs(name, last));
    fail(error);
  }
}

/** Assets › each name prefix (a filtered list) › the asset › the version or view; the last crumb is not a link. */
function crumbs(name, last) {
  const items = [['Assets', '#/']];
  if (name && NAME_RE.test(name)) {
    const segments = name.split('/');
    segments.slice(0, -1).forEach((seg, i) => items.push([`${seg}/`, `#/?prefix=${encodeURIComponent(`${segments.slice(0, i + 1).join('/')}/`)}`]));
    items.push([segments.at(-1), assetHref(name)]);
    if (last) items.push([last]);
  }
  return h('nav', { id: 'crumbs', 'aria-label': 'Breadcrumb' },
    items.map(([text, href], i) => [i ? h('span', { class: 'sep', 'aria-hidden': 'true' }, '›') : '',
      i === items.length - 1 ? h('span', { 'aria-current': 'page' }, text) : h('a', { href }, text)]));
}

function checkName(name) {
  if (!NAME_RE.test(name)) throw new Error(`"${name}" is not an asset name`);
  return name;
}

function checkVersion(version) {
  if (!VERSION_RE.test(version)) throw new Error(`"${version}" is not a version`);
  return version;
}

// ---- pages ----

async function listPage(params) {
  const f = Object.fromEntries(['q', 'type', 'tag', 'prefix', 'sort', 'order'].map((k) => [k, params.get(k) ?? '']));
  const qs = new URLSearchParams({ limit: '50' });
  for (const [k, v] of Object.entries(f)) if (v) qs.set(k, v);
  const { tbody, more } = await pagedRows(`/v1/assets?${qs}`, (a) =>
    h('tr', {}, h('td', {}, h('a', { href: assetHref(a.name) }, a.name)), h('td', {}, a.type), h('td', { class: 'muted' }, firstLine(a.description)),
      h('td', {}, a.liveVersions), h('td', {}, chips(a.tags)), h('td', {}, when(a.updatedAt))), 'No assets match.', 6);
  const filters = h('form', {
    class: 'bar',
    onsubmit: (e) => {
      e.preventDefault();
      const qs = new URLSearchParams([...new FormData(e.currentTarget)].filter(([, v]) => v));
      go(`#/?${qs}`);
    },
  },
    field('Search', h('input', { name: 'q', type: 'search', value: f.q, placeholder: 'name or description' })),
    field('Type', select('type', [['', 'any'], ['model', 'model'], ['dataset', 'dataset'], ['other', 'other']], f.type)),
    field('Tag', h('input', { name: 'tag', value: f.tag, size: 12 })),
    field('Prefix', h('input', { name: 'prefix', value: f.prefix, size: 14, placeholder: 'team/' })),
    field('Sort by', select('sort', [['name', 'name'], ['updated', 'updated']], f.sort || 'name')),
    field('Order', select('order', [['asc', 'ascending'], ['desc', 'descending']], f.order || 'asc')),
    h('button', { class: 'primary' }, 'Apply'),
  );
  const create = h('form', {
    class: 'stack',
    id: 'create-asset',
    onsubmit: onSubmit(async (d) => {
      const body = { name: d.get('name').trim(), type: d.get('type') };
      if (d.get('description')) body.description = d.get('description');
      const tags = splitTags(d.get('tags'));
      if (tags.length) body.tags = tags;
      const asset = await api('POST', '/v1/assets', body);
      go(assetHref(asset.name), `Created ${asset.type} ${asset.name}.`);
    }),
  },
    field('Name (segments of a-z 0-9 . _ - joined by /)', h('input', { name: 'name', required: true, placeholder: 'team/churn-model' })),
    field('Type', select('type', [['model', 'model'], ['dataset', 'dataset'], ['other', 'other']], 'model')),
    field('Description (Markdown)', h('textarea', { name: 'description', rows: 3 })),
    field('Tags (comma-separated)', h('input', { name: 'tags' })),
    h('div', {}, h('button', { class: 'primary' }, 'Create asset')),
  );
  return [h('h1', {}, 'Assets'), filters, table(['name', 'type', 'description', 'live versions', 'tags', 'updated'], tbody), more,
    h('h2', {}, 'Create an asset'), create];
}

const splitTags = (s) => (s ?? '').split(',').map((t) => t.trim()).filter(Boolean);

async function assetPage(name, params) {
  const deleted = params.get('deleted') === '1';
  const [asset, aliases] = await Promise.all([api('GET', `/v1/assets/${name}`), api('GET', `/v1/assets/${name}/-/aliases?limit=100`)]);
  const [versions, histories] = await Promise.all([
    pagedRows(`/v1/assets/${name}/-/versions?limit=50${deleted ? '&includeDeleted=true' : ''}`, (v) =>
      h('tr', {}, h('td', {}, h('a', { href: versionHref(name, v.version) }, v.version)), h('td', {}, status(v.status)), h('td', {}, size(v.size)),
        h('td', {}, chips(v.formats)), h('td', {}, chips(v.aliases)), h('td', {}, v.createdBy), h('td', {}, when(v.createdAt))),
    deleted ? 'No versions at all: upload one below.' : 'No versions yet: upload one below (or show deleted ones).', 7),
    Promise.all(aliases.items.map((a) => api('GET', `/v1/assets/${name}/-/aliases/${encodeURIComponent(a.alias)}/history?limit=20`))),
  ]);
  const aliasRows = aliases.items.map((a) =>
    h('tr', {}, h('td', {}, a.alias), h('td', {}, h('a', { href: versionHref(name, a.version) }, a.version)), h('td', {}, a.updatedBy), h('td', {}, when(a.updatedAt)),
      h('td', {}, h('button', { type: 'button', class: 'danger', onclick: () => deleteAlias(name, a.alias, a.version).catch(fail) }, 'Delete'))),
  );
  return [
    h('h1', {}, name, ' ', h('span', { class: 'chip' }, asset.type)),
    h('div', { class: 'actions' },
      h('a', { href: compareHref(name), class: 'button' }, 'Compare metrics'),
      h('button', { type: 'button', class: 'danger', id: 'delete-asset', onclick: () => deleteAssetNow(asset).catch(fail) }, 'Delete asset')),
    grid('asset-meta', [['latest', asset.latest ?? '—'], ['live versions', asset.liveVersions], ['tags', chips(asset.tags)],
      ['cap policy', asset.capPolicy], ['created', `${when(asset.createdAt)} by ${asset.createdBy}`]]),
    asset.description ? markdown(asset.description) : '',
    editAssetForm(asset),
    h('h2', {}, 'Versions'),
    h('p', {}, deleted ? h('a', { href: assetHref(name), id: 'toggle-deleted' }, 'Hide deleted versions')
      : h('a', { href: `${assetHref(name)}?deleted=1`, id: 'toggle-deleted' }, 'Show deleted versions')),
    table(['version', 'status', 'size', 'formats', 'aliases', 'created by', 'created'], versions.tbody, 'versions'), versions.more,
    h('h2', {}, 'Aliases'), aliasRows.length ? table(['alias', 'version', 'updated by', 'updated', ''], h('tbody', {}, aliasRows), 'aliases') : h('p', { class: 'muted' }, 'No aliases.'),
    aliasForm(name, aliases.items, ''),
    h('h2', {}, 'Alias history'),
    aliases.items.map((a, i) => [h('h3', {}, a.alias),
      table(['when', 'by', 'change'], h('tbody', {}, histories[i].items.map(historyRow)), `history-${a.alias}`),
      histories[i].nextCursor ? h('p', { class: 'muted' }, `Older moves: arca alias ${name} ${a.alias} --history`) : '']),
    aliasAtForm(name, aliases.items),
    h('h2', {}, 'Upload a new version'), uploadForm(name),
  ];
}

const historyRow = (e) =>
  h('tr', {}, h('td', {}, when(e.at)), h('td', {}, e.actor), h('td', {}, e.action === 'alias.delete' ? `deleted (was ${e.from ?? '?'})` : `${e.from ?? 'new'} → ${e.to}`));

/** "What did alias X point to at time T": one request with `?at=` (R-AUD). Any alias name, also a deleted one. */
function aliasAtForm(name, aliases) {
  const answer = h('p', { id: 'alias-at-answer', 'aria-live': 'polite' });
  return h('form', {
    class: 'bar',
    id: 'alias-at',
    onsubmit: onSubmit(async (d) => {
      const alias = d.get('alias').trim();
      const at = Date.parse(d.get('at').trim());
      if (Number.isNaN(at)) throw new Error(`"${d.get('at')}" is not a time: write an ISO 8601 instant such as 2026-12-03T16:40:00Z.`);
      const iso = new Date(at).toISOString();
      const page = await api('GET', `/v1/assets/${name}/-/aliases/${encodeURIComponent(alias)}/history?at=${encodeURIComponent(iso)}`);
      const e = page.items[0];
      answer.textContent = !e ? `At ${when(iso)}, ${alias} did not exist yet.`
        : e.action === 'alias.delete' ? `At ${when(iso)}, ${alias} had been deleted (${when(e.at)} by ${e.actor}).`
          : `At ${when(iso)}, ${alias} pointed to ${e.to} (set ${when(e.at)} by ${e.actor}).`;
    }),
  },
    field('Alias', h('input', { name: 'alias', required: true, size: 14, value: aliases[0]?.alias ?? '', list: 'alias-names' })),
    h('datalist', { id: 'alias-names' }, aliases.map((a) => h('option', { value: a.alias }))),
    field('At (ISO 8601, UTC unless an offset is given)', h('input', { name: 'at', required: true, size: 24, value: new Date().toISOString() })),
    h('button', {}, 'What did it point to?'),
    answer,
  );
}

function editAssetForm(asset) {
  return h('details', { id: 'edit-asset' }, h('summary', {}, 'Edit description and tags'),
    h('form', {
      class: 'stack',
      onsubmit: onSubmit(async (d) => {
        await api('PATCH', `/v1/assets/${asset.name}`, { description: d.get('description'), tags: splitTags(d.get('tags')) });
        go(location.hash, `Saved ${asset.name}.`);
      }),
    },
      field('Description (Markdown)', h('textarea', { name: 'description', rows: 4, value: asset.description ?? '' })),
      field('Tags (comma-separated)', h('input', { name: 'tags', value: (asset.tags ?? []).join(', ') })),
      h('div', {}, h('button', { class: 'primary' }, 'Save'))));
}

async function deleteAssetNow(asset) {
  const live = asset.liveVersions > 0;
  const text = live
    ? `${asset.name} still has ${asset.liveVersions} live version(s). Deleting it (admins only) deletes them and its aliases too; the reason is kept in the audit log.`
    : `Delete ${asset.name} and its aliases? Its audit trail stays.`;
  const reason = await confirmAction(`Delete ${asset.name}`, text, { reason: live });
  if (reason === null) return;
  await api('DELETE', `/v1/assets/${asset.name}${live ? `?force=true&reason=${encodeURIComponent(reason)}` : ''}`);
  go('#/', `Deleted the asset ${asset.name}.`);
}

/** Every metric of the asset's live versions, oldest first: a table and one small line chart per numeric metric. */
async function comparePage(name) {
  const items = [];
  for (let cursor; ;) {
    const page = await api('GET', `/v1/assets/${name}/-/versions?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    if (!(cursor = page.nextCursor)) break;
  }
  const versions = items.filter((v) => v.metrics && Object.keys(v.metrics).length).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const keys = [...new Set(versions.flatMap((v) => Object.keys(v.metrics)))].sort();
  if (!keys.length) return [h('h1', {}, `${name}: metrics`), h('p', { class: 'muted' }, 'No live version has metrics.')];
  const cell = (x) => (x === undefined ? '—' : typeof x === 'number' ? String(x) : JSON.stringify(x));
  return [
    h('h1', {}, `${name}: metrics`),
    table(['version', ...keys], h('tbody', {}, versions.map((v) =>
      h('tr', {}, h('td', {}, h('a', { href: versionHref(name, v.version) }, v.version)), keys.map((k) => h('td', {}, cell(v.metrics[k])))))), 'compare'),
    h('div', { class: 'charts' }, keys.map((k) => chart(k, versions.filter((v) => typeof v.metrics[k] === 'number').map((v) => [v.version, v.metrics[k]])))),
  ];
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

/** A line through each version's value; the SVG scales to its box (viewBox), so it fits a phone too. */
function chart(metric, points) {
  if (points.length < 2) return '';
  const [w, ht, pad] = [300, 120, 14];
  const values = points.map(([, y]) => y);
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  const x = (i) => pad + (i * (w - 2 * pad)) / (points.length - 1);
  const y = (n) => (hi === lo ? ht / 2 : ht - pad - ((n - lo) * (ht - 2 * pad)) / (hi - lo));
  return h('figure', { class: 'chart' },
    svg('svg', { viewBox: `0 0 ${w} ${ht}`, role: 'img', 'aria-label': `${metric} by version` },
      svg('polyline', { points: points.map(([, n], i) => `${x(i)},${y(n)}`).join(' '), fill: 'none', stroke: 'currentColor', 'stroke-width': 2 }),
      ...points.map(([v, n], i) => svg('circle', { cx: x(i), cy: y(n), r: 3.5, fill: 'currentColor' }, svg('title', {}, `${v}: ${n}`)))),
    h('figcaption', {}, `${metric}: ${lo} – ${hi} over ${points[0][0]} … ${points.at(-1)[0]}`));
}

function uploadForm(name) {
  const progress = h('span', { class: 'muted', id: 'upload-progress' });
  return h('form', {
    class: 'stack',
    id: 'upload',
    onsubmit: onSubmit(async (d) => {
      const v = await uploadVersion(name, d, (text) => (progress.textContent = text));
      progress.textContent = '';
      go(versionHref(name, v.version), `Uploaded ${name}:${v.version} — ${v.status}.`);
    }),
  },
    field(`Files (each up to ${size(MULTIPART_THRESHOLD)}; larger files: arca push)`, h('input', { name: 'files', type: 'file', multiple: true, required: true })),
    h('div', { class: 'bar' }, field('Version (empty: bump)', h('input', { name: 'version', placeholder: '1.2.0', size: 12 })),
      field('Bump', select('bump', [['minor', 'minor'], ['patch', 'patch'], ['major', 'major']], 'minor'))),
    field('Description (Markdown)', h('textarea', { name: 'description', rows: 3 })),
    field('Tags (comma-separated)', h('input', { name: 'tags' })),
    field('More metadata as JSON: hyperparameters, config, metrics, params, records', h('textarea', { name: 'extra', rows: 3, placeholder: '{"metrics": {"auc": 0.91}, "records": ["team/train-data:1.0.0"]}' })),
    h('div', {}, h('button', { class: 'primary' }, 'Upload'), ' ', progress),
  );
}

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

async function uploadVersion(name, d, progress) {
  const files = d.getAll('files').filter((f) => f instanceof File && f.name);
  if (!files.length) throw new Error('Pick at least one file.');
  const big = files.find((f) => f.size > MULTIPART_THRESHOLD);
  if (big) throw new Error(`${big.name} (${big.size} bytes) is over ${size(MULTIPART_THRESHOLD)}: such files go up in parts, which this console does not do. Use the CLI: arca push.`);
  if (!crypto.subtle) throw new Error('Hashing needs a secure context: open the console at http://127.0.0.1, http://localhost or over HTTPS.');
  let extra = {};
  if (d.get('extra').trim()) {
    try {
      extra = JSON.parse(d.get('extra'));
    } catch (error) {
      throw new Error(`More metadata is not valid JSON: ${error.message}`);
    }
  }
  const body = { ...extra, files: [] };
  if (d.get('version').trim()) body.version = d.get('version').trim();
  else body.bump = d.get('bump');
  if (d.get('description')) body.description = d.get('description');
  const tags = splitTags(d.get('tags'));
  if (tags.length) body.tags = tags;
  const byPath = new Map();
  for (const [i, file] of files.entries()) {
    progress(`Hashing ${file.name} (${i + 1}/${files.length})…`);
    const path = file.webkitRelativePath || file.name;
    byPath.set(path, file);
    body.files.push({ path, size: file.size, sha256: hex(await crypto.subtle.digest('SHA-256', await file.arrayBuffer())) });
  }
  progress('Creating the version…');
  const created = await api('POST', `/v1/assets/${name}/-/versions`, body);
  for (const entry of created.files) {
    if (entry.multipart) throw new Error(`The registry wants ${entry.path} in parts; use arca push.`);
    if (!entry.upload) continue; // already stored: identical bytes are kept once
    progress(`Uploading ${entry.path} (${size(entry.size)})…`);
    // The browser drops content-length from these headers and sends its own, of the same value.
    const res = await fetch(entry.upload.url, { method: entry.upload.method, headers: entry.upload.headers, body: byPath.get(entry.path) });
    if (!res.ok) throw new Error(`Uploading ${entry.path} failed: ${res.status} ${(await res.text()).slice(0, 300)}`);
  }
  progress('Committing…');
  return api('POST', `/v1/assets/${name}/-/versions/${created.version}/commit`);
}

function aliasForm(name, aliases, version) {
  return h('form', {
    class: 'bar',
    id: 'set-alias',
    onsubmit: onSubmit(async (d) => {
      const alias = d.get('alias').trim();
      const target = d.get('version').trim();
      const current = aliases.find((a) => a.alias === alias)?.version;
      const title = current ? `Move alias ${alias}` : `Set alias ${alias}`;
      const text = current
        ? `Move ${name}:${alias} from ${current} to ${target}? Everything that resolves ${name}:${alias} gets ${target} from now on.`
        : `Point the new alias ${name}:${alias} at ${target}? Everything that resolves ${name}:${alias} will get ${target}.`;
      if ((await confirmAction(title, text)) === null) return;
      await api('PUT', `/v1/assets/${name}/-/aliases/${encodeURIComponent(alias)}`, { version: target });
      go(location.hash, `${name}:${alias} → ${target}.`);
    }),
  },
    field('Alias', h('input', { name: 'alias', required: true, pattern: '[a-z][a-z0-9\\-]{0,62}', placeholder: 'production', size: 14 })),
    field('Version', h('input', { name: 'version', required: true, value: version, size: 12 })),
    h('button', {}, 'Set / move alias'),
  );
}

async function deleteAlias(name, alias, version) {
  const text = `Delete the alias ${name}:${alias} (now at ${version})? Anything resolving ${name}:${alias} will get 404 until it is set again.`;
  if ((await confirmAction(`Delete alias ${alias}`, text)) === null) return;
  await api('DELETE', `/v1/assets/${name}/-/aliases/${encodeURIComponent(alias)}`);
  go(location.hash, `Deleted the alias ${alias}.`);
}

async function versionPage(name, version) {
  const base = `/v1/assets/${name}/-/versions/${version}`;
  const [v, aliases, lineage] = await Promise.all([
    api('GET', base),
    api('GET', `/v1/assets/${name}/-/aliases?limit=100`),
    api('GET', `/v1/assets/${name}/-/lineage?version=${encodeURIComponent(version)}&limit=100`),
  ]);
  const live = v.status === 'ready' || v.status === 'published';
  // Presigned GET URLs (15 min); the files route's 302 cannot carry the bearer token through a plain link.
  const resolved = live ? await api('GET', `/v1/resolve/${name}:${version}`).catch(() => null) : null;
  const urls = new Map((resolved?.files ?? []).map((f) => [f.path, f.url]));
  const actions = h('div', { class: 'actions' });
  if (v.status === 'ready') actions.append(h('button', { type: 'button', class: 'primary', id: 'publish', onclick: () => publish(v).catch(fail) }, 'Publish'));
  if (v.status === 'pending') actions.append(h('button', { type: 'button', onclick: () => api('POST', `${base}/commit`).then(() => go(location.hash), fail) }, 'Check uploads (commit)'));
  if (v.status !== 'deleted') actions.append(h('button', { type: 'button', class: 'danger', id: 'delete', onclick: () => deleteVersion(v).catch(fail) }, v.status === 'published' ? 'Force-delete' : 'Delete'));
  const files = v.files.map((f) =>
    h('tr', {}, h('td', {}, urls.has(f.path) ? h('a', { href: urls.get(f.path), download: f.path.split('/').pop() }, f.path) : f.path),
      h('td', {}, size(f.size)), h('td', {}, f.format), h('td', { class: 'sha' }, copyable(f.sha256, `SHA-256 of ${f.path}`))),
  );
  const audit = await pagedRows(`/v1/audit?asset=${encodeURIComponent(name)}&limit=100`, (e) => (e.version === version || (e.alias && (e.to === version || e.from === version)) ? auditRow(e) : null),
    'No audit entries for this version.', 4);
  const leaf = name.split('/').at(-1);
  const metrics = Object.entries(v.metrics ?? {});
  return [
    h('h1', {}, `${name}:${v.version} `, status(v.status)),
    actions,
    v.status === 'deleted' ? '' : h('section', { id: 'use' }, h('h2', {}, 'Use this version'),
      copyable(`arca pull ${name}:${v.version} -o ./${leaf}`, 'CLI command', 'use-cli'),
      copyable(`import arca\npath = arca.Client().pull("${name}:${v.version}", "${leaf}/")`, 'Python snippet', 'use-python')),
    grid('version-meta', [
      ['size', size(v.size)], ['formats', chips(v.formats)], ['aliases', chips(v.aliases)], ['tags', chips(v.tags)],
      ['created', `${when(v.createdAt)} by ${v.createdBy}`], ['updated', when(v.updatedAt)],
      ...(v.publishedAt ? [['published', when(v.publishedAt)]] : []),
      ...(v.expiresAt && v.status === 'pending' ? [['expires if unfinished', when(v.expiresAt)]] : []),
      ...(v.deletedAt ? [['deleted', `${when(v.deletedAt)} by ${v.deletedBy ?? '?'}${v.deleteReason ? ` — ${v.deleteReason}` : ''}`]] : []),
      // A version pushed without params has no paramsHash (it never matches a params lookup).
      ...(v.paramsHash ? [['paramsHash', h('code', {}, v.paramsHash)]] : [])]),
    v.description ? [h('h2', {}, 'Description'), markdown(v.description)] : '',
    h('h2', {}, 'Files'), table(['path', 'size', 'format', 'sha256'], h('tbody', {}, files)),
    live && !resolved ? h('p', { class: 'muted' }, 'Download links are unavailable: resolving this version failed.') : '',
    metrics.length ? [h('h2', {}, 'Metrics'), table(['metric', 'value'], h('tbody', {}, metrics.map(([k, n]) => h('tr', {}, h('td', {}, k), h('td', {}, n)))))] : '',
    ...['hyperparameters', 'config', 'params'].filter((k) => v[k] && Object.keys(v[k]).length).map((k) => [h('h2', {}, k), json(v[k])]),
    h('h2', {}, 'Lineage: made from'),
    lineage.upstream.records.length || lineage.upstream.source
      ? h('ul', { id: 'upstream' },
        lineage.upstream.source ? h('li', {}, `run output ${lineage.upstream.source.flow}/${lineage.upstream.source.run}/${lineage.upstream.source.name}`) : '',
        lineage.upstream.records.map((r) => h('li', {}, h('a', { href: versionHref(r.asset, r.version) }, `${r.asset}:${r.version}`))))
      : h('p', { class: 'muted' }, 'No records.'),
    h('h2', {}, 'Lineage: used by'),
    lineage.downstream.items.length
      ? h('ul', { id: 'downstream' },
        lineage.downstream.items.map((r) => h('li', {}, h('a', { href: versionHref(r.asset, r.version) }, `${r.asset}:${r.version}`))),
        lineage.downstream.nextCursor ? h('li', { class: 'muted' }, 'and more (arca lineage lists them all)') : '')
      : h('p', { class: 'muted' }, 'No version records this one.'),
    h('h2', {}, 'Audit trail'),
    table(['when', 'by', 'action', 'details'], audit.tbody, 'audit'), audit.more,
    live ? [h('h2', {}, 'Aliases'), aliasForm(name, aliases.items, v.version)] : '',
  ];
}

const auditRow = (e) => h('tr', {}, h('td', {}, when(e.at)), h('td', {}, e.actor), h('td', {}, e.action),
  h('td', {}, [e.alias ? `${e.alias}: ${e.from ?? 'new'} → ${e.to ?? 'deleted'}` : '', e.reason ? `reason: ${e.reason}` : ''].filter(Boolean).join('; ')));

async function publish(v) {
  const text = `Publish ${v.asset}:${v.version}? A published version is frozen forever: its files, metadata and tags can never change again, and only an admin can delete it, with a reason.`;
  if ((await confirmAction(`Publish ${v.version}`, text)) === null) return;
  await api('POST', `/v1/assets/${v.asset}/-/versions/${v.version}/publish`);
  go(location.hash, `Published ${v.asset}:${v.version}.`);
}

async function deleteVersion(v) {
  const published = v.status === 'published';
  const text = published
    ? `${v.asset}:${v.version} is published. Force-deleting it (admins only) lifts the publish lock and leaves a tombstone; the reason is kept in the audit log.`
    : `Delete ${v.asset}:${v.version}? It becomes a tombstone, and this asset can never use the version ${v.version} again.`;
  const reason = await confirmAction(`Delete ${v.version}`, text, { reason: published });
  if (reason === null) return;
  const qs = published ? `?force=true&reason=${encodeURIComponent(reason)}` : '';
  await api('DELETE', `/v1/assets/${v.asset}/-/versions/${v.version}${qs}`);
  go(assetHref(v.asset), `Deleted ${v.asset}:${v.version}.`);
}

// ---- start ----

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  localStorage.setItem('arca-token', $('token').value.trim());
  $('token').value = '';
  void route();
});
$('change-token').addEventListener('click', () => showLogin());
window.addEventListener('hashchange', () => void route());
void route();
