/**
 * `ArcaClient`: the typed SDK. One method per route of R-API (request types from contract/ zod schemas,
 * response types from contract/), plus the workflows built on them: `push`, `pull`, `loadOrGenerate`.
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type {
  AddFilesRequest,
  AliasRecord,
  AuditEntry,
  AssetRecord,
  AssetType,
  CreateAssetRequest,
  CreateVersionRequest,
  GrantRecord,
  GrantRequest,
  Page,
  ResolveResult,
  UpdateAssetRequest,
  UpdateVersionRequest,
  VersionRecord,
  VersionStatus,
  MultipartInstructions,
  LineageRecord,
  OutputRecord,
  PromoteOutputRequest,
  PutOutputRequest,
} from '../contract/schemas.ts';
import type * as z from '../contract/zod.ts';
import type { CreateHookRequest, DeliveryRecord, HookRecord } from '../contract/events.ts';
import { BlobCache } from './cache.ts';
import { defaultCacheDir, loadConfig, registryUrl, type AuthMode, type ClientConfig, type ConfigSettings } from './config.ts';
import { ApiTransport, encodePath, type Query } from './http.ts';
import type { LoadOrGenerateOptions, LoadOrGenerateResult } from './loadOrGenerate.ts';
import type { PullOptions, PullResult } from './pull.ts';
import type { PutOutputOptions, PutOutputResult } from './outputs.ts';
import type { PushOptions, PushResult } from './push.ts';
import { Transfers, type TransferStats } from './transfer.ts';

export interface ArcaClientOptions {
  url: string;
  token?: string;
  /** Default: `token` when a token is given, else `sigv4`. */
  auth?: AuthMode;
  region?: string;
  /** SigV4 credentials; default: the standard AWS credential chain. */
  credentials?: AwsCredentialIdentityProvider;
  /** Content-addressed download cache and upload resume state. */
  cacheDir?: string;
  /** Parts or files in flight at once (uploads and ranged downloads). Default 8. */
  concurrency?: number;
  /** Files above this size are declared with part digests (R-UPLOAD). Default 64 MiB, as the service. */
  multipartThreshold?: number;
  /** Size of the parallel ranged GETs of a pulled file. Default: one stream from a loopback store, else 32 MiB ranges above 64 MiB. */
  rangeSize?: number;
}

export interface ListAssetsQuery {
  prefix?: string;
  type?: AssetType;
  tag?: string;
  q?: string;
  sort?: 'name' | 'updated';
  order?: 'asc' | 'desc';
  limit?: number;
  cursor?: string;
}

export interface ListVersionsQuery {
  status?: VersionStatus;
  paramsHash?: string;
  includeDeleted?: boolean;
  limit?: number;
  cursor?: string;
}

export interface DeleteOptions {
  force?: boolean;
  reason?: string;
}

const asset = (name: string) => `/v1/assets/${encodePath(name)}`;
const runOutputs = (flow: string, run: string) => `/v1/flows/${encodeURIComponent(flow)}/runs/${encodeURIComponent(run)}/outputs`;
const output = (flow: string, run: string, name: string) => `${runOutputs(flow, run)}/${encodeURIComponent(name)}`;

/** A run-output listing: the run `latest` resolved to. */
export type OutputPage = Page<OutputRecord> & { flow: string; run: string };
const version = (name: string, v: string) => `${asset(name)}/-/versions/${encodeURIComponent(v)}`;

export class ArcaClient {
  readonly url: string;
  readonly cacheDir: string;
  readonly concurrency: number;
  readonly multipartThreshold: number;
  readonly rangeSize: number | undefined;
  readonly transfers: Transfers;
  readonly cache: BlobCache;
  private readonly api: ApiTransport;

  constructor(opts: ArcaClientOptions) {
    const auth = opts.auth ?? (opts.token ? 'token' : 'sigv4');
    this.url = registryUrl(opts.url);
    this.api = new ApiTransport({ url: this.url, token: opts.token, auth, region: opts.region }, opts.credentials);
    this.cacheDir = opts.cacheDir ?? defaultCacheDir();
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
    this.multipartThreshold = opts.multipartThreshold ?? 64 * 1024 * 1024;
    this.rangeSize = opts.rangeSize;
    this.transfers = new Transfers(this.concurrency);
    this.cache = new BlobCache(this.cacheDir);
  }

  /** A client configured from flags, then `ARCA_*` environment, then the `arca login` file. */
  static async fromConfig(flags: ConfigSettings = {}, extra: Omit<ArcaClientOptions, keyof ClientConfig> = {}): Promise<ArcaClient> {
    const config = await loadConfig(flags);
    return new ArcaClient({ ...config, ...extra });
  }

  /** Bytes sent to and received from the store by this client so far. */
  get stats(): TransferStats {
    return { ...this.transfers.stats };
  }

  /** Frees keep-alive sockets so that a script can exit promptly. */
  close(): void {
    this.transfers.close();
  }

  call<T>(method: string, path: string, opts: { query?: Query; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<T> {
    return this.api.call<T>(method, path, { ...opts, retry: method === 'GET' || opts.headers?.['idempotency-key'] !== undefined });
  }

  health(): Promise<{ status: string }> {
    return this.call('GET', '/v1/health');
  }

  // ---- assets ----
  listAssets(query: ListAssetsQuery = {}): Promise<Page<AssetRecord>> {
    return this.call('GET', '/v1/assets', { query: { ...query } });
  }
  createAsset(req: CreateAssetRequest): Promise<AssetRecord> {
    return this.call('POST', '/v1/assets', { body: req });
  }
  getAsset(name: string): Promise<AssetRecord> {
    return this.call('GET', asset(name));
  }
  updateAsset(name: string, req: UpdateAssetRequest, ifMatch?: string): Promise<AssetRecord> {
    return this.call('PATCH', asset(name), { body: req, headers: ifMatch ? { 'if-match': ifMatch } : {} });
  }
  deleteAsset(name: string, opts: DeleteOptions = {}): Promise<unknown> {
    return this.call('DELETE', asset(name), { query: { force: opts.force, reason: opts.reason } });
  }

  // ---- versions ----
  listVersions(name: string, query: ListVersionsQuery = {}): Promise<Page<VersionRecord>> {
    return this.call('GET', `${asset(name)}/-/versions`, { query: { ...query } });
  }
  createVersion(name: string, req: CreateVersionRequest, opts: { idempotencyKey?: string; signal?: AbortSignal } = {}): Promise<VersionRecord> {
    return this.call('POST', `${asset(name)}/-/versions`, {
      body: req,
      headers: opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {},
      signal: opts.signal,
    });
  }
  getVersion(name: string, v: string): Promise<VersionRecord> {
    return this.call('GET', version(name, v));
  }
  updateVersion(name: string, v: string, req: UpdateVersionRequest, ifMatch?: string): Promise<VersionRecord> {
    return this.call('PATCH', version(name, v), { body: req, headers: ifMatch ? { 'if-match': ifMatch } : {} });
  }
  addFiles(name: string, v: string, req: AddFilesRequest): Promise<VersionRecord> {
    return this.call('POST', `${version(name, v)}/files`, { body: req });
  }
  /** Withdraws a ready version's files whose bytes never arrived (of one format, or all), so it can be published. */
  withdrawFiles(name: string, v: string, format?: string): Promise<VersionRecord> {
    return this.call('DELETE', `${version(name, v)}/files`, { query: { format } });
  }
  commit(name: string, v: string, signal?: AbortSignal): Promise<VersionRecord> {
    return this.call('POST', `${version(name, v)}/commit`, { signal });
  }
  /** Fresh presigned URLs for the parts of a multipart upload, from part `from` on (resume). */
  uploadParts(name: string, v: string, uploadId: string, from?: number, signal?: AbortSignal): Promise<MultipartInstructions> {
    return this.call('POST', `${version(name, v)}/uploads/${encodeURIComponent(uploadId)}/parts`, { body: from === undefined ? {} : { from }, signal });
  }
  publish(name: string, v: string): Promise<VersionRecord> {
    return this.call('POST', `${version(name, v)}/publish`);
  }
  deleteVersion(name: string, v: string, opts: DeleteOptions = {}): Promise<unknown> {
    return this.call('DELETE', version(name, v), { query: { force: opts.force, reason: opts.reason } });
  }

  // ---- aliases ----
  listAliases(name: string): Promise<Page<AliasRecord>> {
    return this.call('GET', `${asset(name)}/-/aliases`);
  }
  setAlias(name: string, alias: string, v: string): Promise<AliasRecord> {
    return this.call('PUT', `${asset(name)}/-/aliases/${encodeURIComponent(alias)}`, { body: { version: v } });
  }
  deleteAlias(name: string, alias: string): Promise<unknown> {
    return this.call('DELETE', `${asset(name)}/-/aliases/${encodeURIComponent(alias)}`);
  }

  /** Every move of `alias` newest first; with `at` (ISO time), only the entry in force then. */
  aliasHistory(name: string, alias: string, opts: { at?: string; limit?: number; cursor?: string } = {}): Promise<Page<AuditEntry>> {
    return this.call('GET', `${asset(name)}/-/aliases/${encodeURIComponent(alias)}/history`, { query: { ...opts } });
  }

  // ---- audit ----
  /** One page of the audit log, newest first; without `asset` the caller must be a registry admin. */
  audit(query: { asset?: string; actor?: string; since?: string; until?: string; limit?: number; cursor?: string } = {}): Promise<Page<AuditEntry>> {
    return this.call('GET', '/v1/audit', { query: { ...query } });
  }

  // ---- resolve ----
  resolve(spec: string, opts: { stage?: 'published' } = {}): Promise<ResolveResult> {
    return this.call('GET', `/v1/resolve/${encodePath(spec)}`, { query: { stage: opts.stage } });
  }

  // ---- lineage ----
  lineage(name: string, v: string, query: { limit?: number; cursor?: string } = {}): Promise<LineageRecord> {
    return this.call('GET', `${asset(name)}/-/lineage`, { query: { version: v, ...query } });
  }

  // ---- run outputs (R-OUT) ----
  /** Declares an output; the answer's files carry upload instructions, as a version create's. */
  declareOutput(flow: string, run: string, name: string, req: z.input<typeof PutOutputRequest>): Promise<OutputRecord> {
    return this.call('PUT', output(flow, run, name), { body: req });
  }
  commitOutput(flow: string, run: string, name: string): Promise<OutputRecord> {
    return this.call('POST', `${output(flow, run, name)}/commit`);
  }
  outputParts(flow: string, run: string, name: string, uploadId: string, from?: number): Promise<MultipartInstructions> {
    return this.call('POST', `${output(flow, run, name)}/uploads/${encodeURIComponent(uploadId)}/parts`, { body: from === undefined ? {} : { from } });
  }
  /** A ready output with download URLs; `run` may be `latest`. */
  getOutput(flow: string, run: string, name: string): Promise<OutputRecord> {
    return this.call('GET', output(flow, run, name));
  }
  listOutputs(flow: string, run: string, query: { limit?: number; cursor?: string } = {}): Promise<OutputPage> {
    return this.call('GET', runOutputs(flow, run), { query: { ...query } });
  }
  promoteOutput(flow: string, run: string, name: string, req: PromoteOutputRequest, opts: { idempotencyKey?: string } = {}): Promise<VersionRecord> {
    return this.call('POST', `${output(flow, run, name)}/promote`, {
      body: req,
      headers: opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {},
    });
  }
  /** Hashes, declares, uploads and commits files as a run output; see `PutOutputOptions`. */
  async putOutput(flow: string, run: string, name: string, paths: string[], opts: PutOutputOptions = {}): Promise<PutOutputResult> {
    const { putOutput } = await import('./outputs.ts');
    return putOutput(this, { flow, run, name }, paths, opts);
  }

  // ---- webhooks (admin) ----
  listHooks(): Promise<Page<HookRecord>> {
    return this.call('GET', '/v1/hooks');
  }
  /** The answer carries the signing secret, shown this once. */
  createHook(req: CreateHookRequest): Promise<HookRecord> {
    return this.call('POST', '/v1/hooks', { body: req });
  }
  deleteHook(id: string): Promise<unknown> {
    return this.call('DELETE', `/v1/hooks/${encodeURIComponent(id)}`);
  }
  listDeliveries(id: string, query: { limit?: number; cursor?: string } = {}): Promise<Page<DeliveryRecord>> {
    return this.call('GET', `/v1/hooks/${encodeURIComponent(id)}/deliveries`, { query: { ...query } });
  }

  // ---- grants (admin of every name) ----
  /** Grants of the grants table (deploy-time ones are not listed); `prefix` keeps those whose prefix starts with it. */
  listGrants(query: { principal?: string; prefix?: string; limit?: number; cursor?: string } = {}): Promise<Page<GrantRecord>> {
    return this.call('GET', '/v1/grants', { query: { ...query } });
  }
  /** Gives `principal` `role` on names starting with `prefix` (`''`: every name); the same pair again replaces the role. */
  putGrant(grant: GrantRequest): Promise<GrantRecord> {
    return this.call('PUT', '/v1/grants', { body: grant });
  }
  deleteGrant(principal: string, prefix: string): Promise<unknown> {
    return this.call('DELETE', '/v1/grants', { query: { principal, prefix } });
  }

  // ---- workflows ----
  // Each workflow's module is loaded by its first call: a pull never parses the push, resume and
  // parameter-hashing code, nor a push the landing and spec parsing.
  /** Uploads files and directories as a new version of `name`; see `PushOptions`. */
  async push(name: string, paths: string[], opts: PushOptions = {}): Promise<PushResult> {
    const { push } = await import('./push.ts');
    return push(this, name, paths, opts);
  }
  /** Resolves `spec` and brings its files into the cache (and `outDir`); see `PullOptions`. */
  async pull(spec: string, opts: PullOptions = {}): Promise<PullResult> {
    const { pull } = await import('./pull.ts');
    return pull(this, spec, opts);
  }
  /** Parameter-based persistence: the version made from `params`, generated and pushed only when missing. */
  async loadOrGenerate(name: string, params: Record<string, unknown>, generate: () => Promise<string | string[]>, opts: LoadOrGenerateOptions = {}): Promise<LoadOrGenerateResult> {
    const { loadOrGenerate } = await import('./loadOrGenerate.ts');
    return loadOrGenerate(this, name, params, generate, opts);
  }
}
