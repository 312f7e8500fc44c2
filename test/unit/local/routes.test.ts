/**
 * The route table matched on full paths, as local mode and each group's Lambda do: an asset name (several
 * segments) ends at `/-/`, so a version, alias or file path is never read as part of the name.
 */
import { describe, expect, it } from 'vitest';
import { matchRoute } from '../../../contract/routes.ts';

describe('matchRoute', () => {
  it.each([
    ['GET', '/v1/assets/a/b', 'getAsset', { name: 'a/b' }],
    ['GET', '/v1/assets/a-b/c-', 'getAsset', { name: 'a-b/c-' }],
    ['GET', '/v1/assets/a/b/-/versions', 'listVersions', { name: 'a/b' }],
    ['GET', '/v1/assets/a/b/-/versions/1.0.0', 'getVersion', { name: 'a/b', version: '1.0.0' }],
    ['PATCH', '/v1/assets/a/-/versions/1.0.0', 'updateVersion', { name: 'a', version: '1.0.0' }],
    ['DELETE', '/v1/assets/a/-/versions/1.0.0', 'deleteVersion', { name: 'a', version: '1.0.0' }],
    ['GET', '/v1/assets/a/-/versions/1.0.0/files/x/-/y.bin', 'downloadFile', { name: 'a', version: '1.0.0', path: 'x/-/y.bin' }],
    ['DELETE', '/v1/assets/a/b/-/aliases/prod', 'deleteAlias', { name: 'a/b', alias: 'prod' }],
    ['GET', '/v1/resolve/a/b:%5E1.2/sub/-/path', 'resolve', { spec: 'a/b:^1.2/sub/-/path' }],
    ['GET', '/v1/assets/', 'listAssets', {}],
  ])('%s %s → %s', (method, path, id, params) => {
    const match = matchRoute(method, path);
    expect({ id: match?.route.id, params: match?.params }).toEqual({ id, params });
  });

  it.each([
    ['GET', '/v1/assets/a/-'],
    ['GET', '/v1/assets/a/-/unknown'],
    ['DELETE', '/v1/resolve/a:1'],
  ])('%s %s matches no route', (method, path) => {
    expect(matchRoute(method, path)).toBeUndefined();
  });

  it('names the route but reports a parameter that is not valid percent-encoding', () => {
    expect(matchRoute('GET', '/v1/assets/%ZZ')).toEqual({ route: expect.objectContaining({ id: 'getAsset' }), params: {}, undecodable: 'name' });
  });
});
