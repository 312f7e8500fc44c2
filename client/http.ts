/**
 * JSON calls to the Arca API with the right credentials: a bearer token for local mode, SigV4 (service
 * `execute-api`, standard AWS credential chain) for deployed stacks. The AWS signing code is loaded only
 * when SigV4 is used, so a local-mode CLI starts without it.
 */
import { randomUUID } from 'node:crypto';
import type { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { isLoopback, type ClientConfig } from './config.ts';
import { ArcaApiError, clientError, errorFromResponse } from './errors.ts';

export type Query = Record<string, string | number | boolean | undefined>;

export interface CallOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Safe to send again after a network error or a 5xx/429 (reads, and writes with an Idempotency-Key). */
  retry?: boolean;
}

/** The region of an API Gateway or Lambda function URL host, when the host names one. */
export function regionFromUrl(url: string): string | undefined {
  const host = new URL(url).hostname;
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(host)?.[1] ?? /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(host)?.[1];
}

/** Encodes each `/`-separated segment, keeping the slashes: asset names and specs sit in paths as is (R-API). */
export const encodePath = (s: string): string => s.split('/').map(encodeURIComponent).join('/');

export const USER_AGENT = 'arca-sdk/0.1.0';

/**
 * A refused connection or an unknown host will not heal in the seconds a retry waits: said at once, with what
 * to do (a local registry is started with `npm start`).
 */
function notReachable(url: URL, err: unknown): ArcaApiError | undefined {
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  if (code !== 'ECONNREFUSED' && code !== 'ENOTFOUND') return undefined;
  const why = code === 'ECONNREFUSED' ? 'connection refused' : `no host ${url.hostname}`;
  const fix = isLoopback(url.hostname) ? 'start it with `npm start` in the Arca clone, or check --url / ARCA_URL' : 'check --url / ARCA_URL (or the login file)';
  return new ArcaApiError('NetworkError', `the registry is not reachable at ${url.origin} (${why}); ${fix}`, { cause: err });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ApiTransport {
  readonly config: Pick<ClientConfig, 'url' | 'token' | 'auth' | 'region'>;
  private readonly credentials?: AwsCredentialIdentityProvider;
  private signer?: Promise<SignatureV4>;

  constructor(config: Pick<ClientConfig, 'url' | 'token' | 'auth' | 'region'>, credentials?: AwsCredentialIdentityProvider) {
    this.config = config;
    this.credentials = credentials;
  }

  async call<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
    const url = new URL(this.config.url + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const attempts = opts.retry ? 4 : 1;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        const headers = await this.headers(method, url, body, opts.headers ?? {});
        res = await fetch(url, { method, headers, body, signal: opts.signal });
      } catch (err) {
        const unreachable = notReachable(url, err);
        if (unreachable) throw unreachable;
        if (err instanceof ArcaApiError || opts.signal?.aborted || attempt >= attempts) {
          if (err instanceof ArcaApiError || opts.signal?.aborted) throw err;
          throw new ArcaApiError('NetworkError', `${method} ${url.origin}${url.pathname}: ${(err as Error).message}`, { cause: err });
        }
        await sleep(200 * 2 ** attempt);
        continue;
      }
      const text = await res.text();
      if (res.ok) return (text ? JSON.parse(text) : undefined) as T;
      if ((res.status === 429 || res.status >= 500) && attempt < attempts) {
        await sleep(200 * 2 ** attempt);
        continue;
      }
      throw errorFromResponse(res.status, text, res.headers.get('x-request-id') ?? undefined);
    }
  }

  private async headers(method: string, url: URL, body: string | undefined, extra: Record<string, string>): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT, ...extra };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.config.auth === 'token') {
      headers.authorization = `Bearer ${this.config.token}`;
      return headers;
    }
    const signer = await (this.signer ??= this.makeSigner());
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...headers, host: url.host },
      body,
    });
    // fetch sets Host itself from the URL; the signed value is the same.
    const { host: _host, ...rest } = signed.headers;
    return rest;
  }

  private async makeSigner(): Promise<SignatureV4> {
    const region = this.config.region ?? regionFromUrl(this.config.url);
    if (!region) throw clientError(`cannot tell the AWS region of ${this.config.url}: pass --region or set AWS_REGION`);
    const [{ SignatureV4 }, { Sha256 }] = await Promise.all([import('@smithy/signature-v4'), import('@aws-crypto/sha256-js')]);
    const credentials = this.credentials ?? (await import('@aws-sdk/credential-providers')).fromNodeProviderChain();
    return new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256 });
  }
}

export const newIdempotencyKey = (): string => randomUUID();
