import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFilePath, defaultCacheDir, loadConfig, mergeConfig, readConfigFile, registryUrl, sameRegistry, writeConfigFile } from '../../client/config.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'arca-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const HOME = { HOME: '/home/ada' };

describe('config precedence: flags, then ARCA_* environment, then the login file', () => {
  const file = { url: 'http://file:4100', token: 'file-token', cacheDir: '/file/cache', region: 'eu-west-1' };
  const env = { ...HOME, ARCA_URL: 'http://env:4100', ARCA_TOKEN: 'env-token', ARCA_CACHE_DIR: '/env/cache' };

  it('flags win over everything', () => {
    expect(mergeConfig({ url: 'http://flag:1', token: 'flag-token', cacheDir: '/flag/cache', region: 'us-west-2' }, env, file)).toEqual({
      url: 'http://flag:1',
      token: 'flag-token',
      auth: 'token',
      region: 'us-west-2',
      cacheDir: '/flag/cache',
    });
  });

  it('environment wins over the file', () => {
    expect(mergeConfig({}, env, file)).toEqual({ url: 'http://env:4100', token: 'env-token', auth: 'token', region: 'eu-west-1', cacheDir: '/env/cache' });
  });

  it('the file fills in what nothing else sets; the cache defaults to the user cache dir', () => {
    expect(mergeConfig({}, HOME, { url: 'http://file:4100/', token: 'file-token' })).toEqual({
      url: 'http://file:4100',
      token: 'file-token',
      auth: 'token',
      region: undefined,
      cacheDir: '/home/ada/.cache/arca',
    });
  });

  it("never sends the login file's token to another registry", () => {
    const c = mergeConfig({ url: 'https://abc.execute-api.eu-west-1.amazonaws.com' }, HOME, file);
    expect(c.token).toBeUndefined();
    expect(c.auth).toBe('sigv4');
  });

  it('says which registry the saved token belongs to when it is not sent', () => {
    const saved = { url: 'http://localhost:4100', auth: 'token' as const, token: 'saved' };
    expect(() => mergeConfig({}, { ...HOME, ARCA_URL: 'http://127.0.0.1:4200' }, saved)).toThrow(
      'no token for http://127.0.0.1:4200: the login file\'s token was saved for http://localhost:4100 and is only sent there; pass --token, set ARCA_TOKEN, or run "arca login --url http://127.0.0.1:4200 --token-file .arca/token"',
    );
  });

  it('treats localhost, 127.0.0.1 and [::1] as the same registry for the saved token', () => {
    const saved = { url: 'http://localhost:4100', auth: 'token' as const, token: 'saved' };
    for (const url of ['http://127.0.0.1:4100', 'http://127.0.0.1:4100/', 'http://[::1]:4100', 'http://LOCALHOST:4100']) {
      expect(mergeConfig({}, { ...HOME, ARCA_URL: url }, saved).token).toBe('saved');
    }
    // Another port, scheme or host is another registry.
    expect(sameRegistry('http://localhost:4100', 'http://127.0.0.1:4101')).toBe(false);
    expect(sameRegistry('http://localhost:4100', 'https://localhost:4100')).toBe(false);
    expect(sameRegistry('http://localhost:4100', 'http://10.0.0.1:4100')).toBe(false);
    expect(sameRegistry('https://abc.example.com/prod', 'https://ABC.example.com/prod/')).toBe(true);
  });

  it('refuses a URL without a scheme or ending in /v1, and says what to give instead', () => {
    expect(() => registryUrl('localhost:4100')).toThrow('registry URL "localhost:4100" has no http:// or https:// scheme: use http://localhost:4100');
    expect(() => registryUrl('ftp://x')).toThrow('use an http:// or https:// URL');
    expect(() => registryUrl('http://localhost:4100/v1')).toThrow(
      'registry URL "http://localhost:4100/v1" ends in /v1: give the registry\'s root, http://localhost:4100 (the client adds /v1 itself)',
    );
    expect(() => registryUrl('http://localhost:4100/v1/')).toThrow(/ends in \/v1/);
    expect(() => mergeConfig({ url: 'localhost:4100', token: 't' }, HOME, {})).toThrow(/use http:\/\/localhost:4100/);
    expect(registryUrl('https://abc.execute-api.eu-west-1.amazonaws.com/prod/')).toBe('https://abc.execute-api.eu-west-1.amazonaws.com/prod');
  });

  it('uses SigV4 when no token is set, token auth when one is', () => {
    expect(mergeConfig({}, { ...HOME, ARCA_URL: 'https://x' }, {}).auth).toBe('sigv4');
    expect(mergeConfig({ auth: 'sigv4' }, env, file).auth).toBe('sigv4');
  });

  it('says how to fix a missing URL or token', () => {
    expect(() => mergeConfig({}, HOME, {})).toThrow(/--url, set ARCA_URL, or run "arca login/);
    expect(() => mergeConfig({ auth: 'token' }, { ...HOME, ARCA_URL: 'http://x' }, {})).toThrow(/no token/);
  });
});

describe('config file', () => {
  it('lives at ARCA_CONFIG, else under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configFilePath({ ARCA_CONFIG: '/x/c.json', ...HOME })).toBe('/x/c.json');
    expect(configFilePath({ XDG_CONFIG_HOME: '/xdg', ...HOME })).toBe('/xdg/arca/config.json');
    expect(configFilePath(HOME)).toBe('/home/ada/.config/arca/config.json');
  });

  it('is written owner-only (it may hold a token) and read back by loadConfig', async () => {
    const path = join(dir, 'nested', 'config.json');
    await writeConfigFile(path, { url: 'http://127.0.0.1:4100', auth: 'token', token: 't0k' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ url: 'http://127.0.0.1:4100', auth: 'token', token: 't0k' });
    const c = await loadConfig({}, { ARCA_CONFIG: path, HOME: dir });
    expect(c).toEqual({ url: 'http://127.0.0.1:4100', token: 't0k', auth: 'token', region: undefined, cacheDir: join(dir, '.cache', 'arca') });
  });

  it('is optional, but a broken one is reported with its path', async () => {
    expect(await readConfigFile(join(dir, 'absent.json'))).toEqual({});
    await writeFile(join(dir, 'broken.json'), '{ url: ');
    await expect(readConfigFile(join(dir, 'broken.json'))).rejects.toThrow(/broken\.json is not valid JSON/);
  });
});

describe('default cache dir', () => {
  it.each([
    ['linux', { ...HOME }, '/home/ada/.cache/arca'],
    ['linux', { ...HOME, XDG_CACHE_HOME: '/xdg-cache' }, '/xdg-cache/arca'],
    ['darwin', { ...HOME }, '/home/ada/Library/Caches/arca'],
  ] as const)('%s %j → %s', (platform, env, expected) => expect(defaultCacheDir(env, platform)).toBe(expected));
});
