/**
 * Client configuration, R-CLIENT: each setting comes from the first of flags, environment
 * (`ARCA_URL`, `ARCA_TOKEN`, `ARCA_CACHE_DIR`), then the config file that `arca login` writes
 * (`$ARCA_CONFIG`, else `$XDG_CONFIG_HOME/arca/config.json`, else `~/.config/arca/config.json`).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { clientError } from './errors.ts';

export type AuthMode = 'token' | 'sigv4';

export interface ClientConfig {
  url: string;
  /** Bearer token (local mode). */
  token?: string;
  /** `token` when a token is set, else `sigv4` (deployed stacks, standard AWS credential chain). */
  auth: AuthMode;
  /** Region for SigV4; read from an `execute-api` host when not given. */
  region?: string;
  cacheDir: string;
}

/** What `arca login` stores, and what flags may override. */
export interface ConfigSettings {
  url?: string;
  token?: string;
  auth?: AuthMode;
  region?: string;
  cacheDir?: string;
}

type Env = Record<string, string | undefined>;

export function configFilePath(env: Env = process.env): string {
  if (env.ARCA_CONFIG) return env.ARCA_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'arca', 'config.json');
}

/** The user cache dir: XDG on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows. */
export function defaultCacheDir(env: Env = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = env.HOME || homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'arca');
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'arca', 'cache');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'arca');
}

export async function readConfigFile(path: string): Promise<ConfigSettings> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    const o = parsed as Record<string, unknown>;
    const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
    const auth = str('auth');
    return { url: str('url'), token: str('token'), auth: auth === 'token' || auth === 'sigv4' ? auth : undefined, region: str('region'), cacheDir: str('cacheDir') };
  } catch (err) {
    throw clientError(`config file ${path} is not valid JSON (${(err as Error).message}); fix it or run "arca login" again`);
  }
}

/** Writes the config file readable by its owner only: it may hold a token. */
export async function writeConfigFile(path: string, settings: ConfigSettings): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/**
 * A registry URL as the client uses it: http(s), no trailing slash, and the registry's root (the client adds
 * `/v1/…` itself). Refused otherwise, with the URL that would work.
 */
export function registryUrl(raw: string): string {
  const url = raw.trim().replace(/\/+$/, '');
  if (!/^https?:\/\//i.test(url)) {
    const fix = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? 'an http:// or https:// URL' : `http://${url}`;
    throw clientError(`registry URL "${raw}" has no http:// or https:// scheme: use ${fix}`, { url: raw });
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw clientError(`registry URL "${raw}" is not a URL`, { url: raw });
  }
  if (/\/v1$/i.test(parsed.pathname)) {
    throw clientError(`registry URL "${raw}" ends in /v1: give the registry's root, ${url.slice(0, -3)} (the client adds /v1 itself)`, { url: raw });
  }
  return url;
}

/** localhost, 127.x.x.x and [::1] are one machine's loopback: the same registry under any of these names. */
export const isLoopback = (host: string): boolean => host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);

function registryKey(url: string): string | undefined {
  try {
    const u = new URL(url);
    return `${u.protocol}//${isLoopback(u.hostname) ? 'loopback' : u.hostname.toLowerCase()}:${u.port}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return undefined;
  }
}

/** Whether two URLs name the same registry (scheme, host with loopback names as one, port, path). */
export function sameRegistry(a: string, b: string): boolean {
  const key = registryKey(a);
  return key !== undefined && key === registryKey(b);
}

/** Merges flags over environment over file, field by field. */
export function mergeConfig(flags: ConfigSettings, env: Env, file: ConfigSettings): ClientConfig {
  const pick = <T>(...values: (T | undefined)[]): T | undefined => values.find((v) => v !== undefined && v !== '');
  const given = pick(flags.url, env.ARCA_URL, file.url);
  if (!given) throw clientError('no registry URL: pass --url, set ARCA_URL, or run "arca login --url URL"');
  const url = registryUrl(given);
  // The login file's token belongs to the login file's registry: never send it to another one.
  const fileToken = file.url === undefined || sameRegistry(file.url, url) ? file.token : undefined;
  const token = pick(flags.token, env.ARCA_TOKEN, fileToken);
  const auth = pick(flags.auth, env.ARCA_AUTH as AuthMode | undefined, file.auth) ?? (token ? 'token' : 'sigv4');
  if (auth === 'token' && !token) {
    if (file.token && file.url !== undefined) {
      throw clientError(
        `no token for ${url}: the login file's token was saved for ${file.url} and is only sent there; pass --token, set ARCA_TOKEN, or run "arca login --url ${url} --token-file .arca/token"`,
      );
    }
    throw clientError('auth is "token" but no token is set: pass --token, set ARCA_TOKEN, or run "arca login"');
  }
  return {
    url,
    token,
    auth,
    region: pick(flags.region, env.ARCA_REGION, env.AWS_REGION, file.region),
    cacheDir: pick(flags.cacheDir, env.ARCA_CACHE_DIR, file.cacheDir) ?? defaultCacheDir(env),
  };
}

export async function loadConfig(flags: ConfigSettings = {}, env: Env = process.env): Promise<ClientConfig> {
  return mergeConfig(flags, env, await readConfigFile(configFilePath(env)));
}
