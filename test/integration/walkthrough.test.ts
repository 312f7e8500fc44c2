/**
 * The README's curl walkthrough over HTTP against local mode: create asset → create version → PUT bytes to
 * the presigned URL → commit → ready → publish → alias → resolve → download.
 */
import { describe, expect, it } from 'vitest';
import type { AliasRecord, AssetRecord, ResolveResult, VersionRecord } from '../../contract/schemas.ts';
import { arca, call, createAsset, pushVersion, sha256hex, uniqueName, uploadSingle, type LocalFile } from './api.ts';

const resolvePath = (spec: string) => `/v1/resolve/${spec.split('/').map(encodeURIComponent).join('/')}`;

describe('the walkthrough', () => {
  const name = uniqueName('walk');
  const files: LocalFile[] = [
    // Bytes unique to this run, so no blob is already `present` from another test.
    { path: 'model.pkl', bytes: Buffer.from(`pickled model bytes of ${name}`) },
    { path: 'sub/path/a.json', bytes: Buffer.from(JSON.stringify({ name })) },
    { path: 'sub/path/deeper/b.txt', bytes: Buffer.from(`b ${name}`) },
    { path: 'sub/other.txt', bytes: Buffer.from(`other ${name}`) },
  ];

  it('answers health without a token', async () => {
    const res = await call('GET', '/v1/health', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('goes from a new asset to a resolved, downloaded, published and aliased version', async () => {
    const asset = await call<AssetRecord>('POST', '/v1/assets', { json: { name, type: 'model', description: '# walkthrough', tags: ['demo'] } });
    expect(asset.status, asset.text).toBe(201);
    expect(asset.headers.get('x-request-id')).toBeTruthy();
    expect(asset.body).toMatchObject({ name, type: 'model', description: '# walkthrough', tags: ['demo'], capPolicy: 'refuse', liveVersions: 0 });

    const created = await call<VersionRecord>('POST', `/v1/assets/${name}/-/versions`, {
      json: {
        version: '1.2',
        files: files.map((f) => ({ path: f.path, size: f.bytes.length, sha256: sha256hex(f.bytes) })),
        metrics: { auc: 0.91 },
      },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ asset: name, version: '1.2.0', status: 'pending', metrics: { auc: 0.91 } });
    expect(created.body.files).toHaveLength(files.length);
    for (const record of created.body.files) {
      const local = files.find((f) => f.path === record.path)!;
      expect(record).toMatchObject({ size: local.bytes.length, sha256: sha256hex(local.bytes), upload: { method: 'PUT' } });
      // The signed headers the uploader must send: length, checksum and create-only.
      expect(record.upload!.headers).toMatchObject({
        'content-length': String(local.bytes.length),
        'if-none-match': '*',
        'x-amz-checksum-sha256': Buffer.from(sha256hex(local.bytes), 'hex').toString('base64'),
      });
      expect(new URL(record.upload!.url).origin).toBe(arca().s3Url);
      const put = await uploadSingle(record, local.bytes);
      expect(put.status, await put.clone().text()).toBe(200);
    }

    const committed = await call<VersionRecord>('POST', `/v1/assets/${name}/-/versions/1.2.0/commit`);
    expect(committed.status, committed.text).toBe(200);
    expect(committed.body).toMatchObject({ asset: name, version: '1.2.0', status: 'ready' });

    const fetched = await call<VersionRecord>('GET', `/v1/assets/${name}/-/versions/1.2.0`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.status).toBe('ready');
    expect(fetched.body.files.map((f) => f.path).sort()).toEqual(files.map((f) => f.path).sort());

    const published = await call<VersionRecord>('POST', `/v1/assets/${name}/-/versions/1.2.0/publish`);
    expect(published.status, published.text).toBe(200);
    expect(published.body).toMatchObject({ version: '1.2.0', status: 'published', publishedAt: expect.any(String) });

    const alias = await call<AliasRecord>('PUT', `/v1/assets/${name}/-/aliases/production`, { json: { version: '1.2.0' } });
    expect(alias.status, alias.text).toBe(200);
    expect(alias.body).toMatchObject({ alias: 'production', version: '1.2.0', updatedAt: expect.any(String), updatedBy: expect.any(String) });

    const aliases = await call<{ items: AliasRecord[] }>('GET', `/v1/assets/${name}/-/aliases`);
    expect(aliases.status).toBe(200);
    expect(aliases.body.items).toEqual([expect.objectContaining({ alias: 'production', version: '1.2.0' })]);

    const assetAfter = await call<AssetRecord>('GET', `/v1/assets/${name}`);
    expect(assetAfter.status).toBe(200);
    expect(assetAfter.body).toMatchObject({ liveVersions: 1, latest: '1.2.0', aliases: [{ alias: 'production', version: '1.2.0' }] });

    // A directory prefix selects the files under it, not sub/other.txt.
    const sub = await call<ResolveResult>('GET', resolvePath(`${name}:^1.2/sub/path`));
    expect(sub.status, sub.text).toBe(200);
    expect(sub.body).toMatchObject({ asset: name, version: '1.2.0', status: 'published', aliases: ['production'] });
    expect(sub.body.files.map((f) => f.path).sort()).toEqual(['sub/path/a.json', 'sub/path/deeper/b.txt']);
    for (const file of sub.body.files) {
      const bytes = Buffer.from(await (await fetch(file.url)).arrayBuffer());
      expect(sha256hex(bytes)).toBe(file.sha256);
      expect(bytes.equals(files.find((f) => f.path === file.path)!.bytes)).toBe(true);
    }

    for (const spec of [`${name}:1`, `${name}:latest`, name, `${name}:production`, `${name}:1.2.0`, `${name}:>=1.0.0 <2.0.0`, `${name}:~1.2.0`]) {
      const res = await call<ResolveResult>('GET', resolvePath(spec));
      expect({ spec, status: res.status, version: res.body?.version }).toEqual({ spec, status: 200, version: '1.2.0' });
      expect(res.body.files).toHaveLength(files.length);
    }

    const download = await call('GET', `/v1/assets/${name}/-/versions/1.2.0/files/model.pkl`);
    expect(download.status).toBe(302);
    const location = download.headers.get('location')!;
    expect(new URL(location).origin).toBe(arca().s3Url);
    const got = await fetch(location);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(files[0]!.bytes)).toBe(true);
  });

  it('resolves name:1 over [1.0, 1.1, 10.0] to 1.1.0, never 10.0.0', async () => {
    const partial = uniqueName('partial');
    await createAsset(partial);
    for (const version of ['1.0', '1.1', '10.0']) {
      const v = await pushVersion(partial, [{ path: 'm.bin', bytes: Buffer.from(`model ${version}`) }], { version });
      expect(v.status).toBe('ready');
    }
    const expected: [string, string][] = [
      ['1', '1.1.0'],
      ['1.0', '1.0.0'],
      ['10', '10.0.0'],
      ['latest', '10.0.0'],
      ['^1.0', '1.1.0'],
    ];
    for (const [selector, version] of expected) {
      const res = await call<ResolveResult>('GET', resolvePath(`${partial}:${selector}`));
      expect({ selector, status: res.status, version: res.body?.version }).toEqual({ selector, status: 200, version });
    }
  });
});
