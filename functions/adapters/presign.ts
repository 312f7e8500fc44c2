/**
 * Presigned URLs for uploaders and downloaders (SPEC R-UPLOAD), signed without an S3 client: the read
 * function's bundle then holds no `@aws-sdk/client-s3` (issue 11). One `S3RequestPresigner` per signer, the
 * SDK's own, with credentials memoized as the clients memoize them (resolved once, refreshed before they
 * expire), the signing key cached per day inside `SignatureV4`, and its HMAC keys made key objects once
 * (`KeyedSha256`). The URL's endpoint follows the S3 client's endpoint rules for a plain bucket (custom endpoint path style; else virtual-hosted in the region's
 * partition, FIPS and dual-stack from the same config the client reads); test/unit/core/s3.test.ts checks
 * each case byte for byte against `getSignedUrl`. Accelerate, access points and S3 Express are not used.
 */
import { doesIdentityRequireRefresh, isIdentityExpired, normalizeProvider } from '@smithy/core';
import {
  loadConfig,
  memoize,
  NODE_REGION_CONFIG_FILE_OPTIONS,
  NODE_REGION_CONFIG_OPTIONS,
  NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS,
  NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS,
} from '@smithy/core/config';
import { isVirtualHostableS3Bucket, partition } from '@aws-sdk/core/client';
import { formatUrl } from '@aws-sdk/core/util';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Provider } from '@smithy/types';
import type { PartUrl, PresignedRequest } from '../../contract/schemas.ts';
import { env } from '../shared/env.ts';
import { KeyedSha256 } from './keyedSha256.ts';
import { hexToBase64, VERSION_META } from './objectHeaders.ts';

/** What the S3 client's config would say about where URLs point and who signs them. */
export interface SignerConfig {
  region: string | Provider<string>;
  /** A custom endpoint, addressed path style (local mode's verifying front). */
  endpoint?: string;
  useFipsEndpoint?: boolean | Provider<boolean>;
  useDualstackEndpoint?: boolean | Provider<boolean>;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/** An object operation as the SDK would serialize it: its query, and the headers the caller must send (signed, never hoisted). */
export interface ObjectRequest {
  method: 'GET' | 'PUT';
  query: Record<string, string>;
  headers?: Record<string, string>;
}

export interface SignOptions {
  expiresIn: number;
  /** Fixed signing time, for tests. */
  signingDate?: Date;
}

interface Endpoint {
  protocol: string;
  hostname: string;
  port?: number;
  host: string;
  /** Path before the key: `/<bucket>` path style, empty virtual-hosted. */
  pathPrefix: string;
}

interface Resolved {
  region: string;
  endpointOf(bucket: string): Endpoint;
}

async function resolve(config: SignerConfig): Promise<Resolved> {
  const region = await normalizeProvider(config.region)();
  if (config.endpoint) {
    const url = new URL(config.endpoint);
    const base = url.pathname.replace(/\/$/, '');
    const at = { protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined, host: url.host };
    return { region, endpointOf: (bucket) => ({ ...at, pathPrefix: `${base}/${bucket}` }) };
  }
  const fips = await normalizeProvider(config.useFipsEndpoint ?? false)();
  const dualStack = await normalizeProvider(config.useDualstackEndpoint ?? false)();
  // S3 keeps the partition's own suffix for dual-stack too (`s3.dualstack.<region>.amazonaws.com`).
  const service = `s3${fips ? '-fips' : ''}${dualStack ? '.dualstack' : ''}.${region}.${partition(region).dnsSuffix}`;
  return {
    region,
    endpointOf: (bucket) =>
      isVirtualHostableS3Bucket(bucket, false)
        ? { protocol: 'https:', hostname: `${bucket}.${service}`, host: `${bucket}.${service}`, pathPrefix: '' }
        : { protocol: 'https:', hostname: service, host: service, pathPrefix: `/${bucket}` },
  };
}

export interface UrlSigner {
  /** A presigned URL for one operation on `bucket`/`key`, byte-identical to `getSignedUrl`'s for the same command. */
  sign(bucket: string, key: string, request: ObjectRequest, opts: SignOptions): Promise<string>;
}

export function createUrlSigner(config: SignerConfig): UrlSigner {
  const presigner = new S3RequestPresigner({ credentials: config.credentials, region: config.region, sha256: KeyedSha256 });
  let resolved: Promise<Resolved> | undefined;
  return {
    async sign(bucket, key, request, opts) {
      resolved ??= resolve(config).catch((err: unknown) => {
        resolved = undefined; // a failed config read must not stick
        throw err;
      });
      const { region, endpointOf } = await resolved;
      const at = endpointOf(bucket);
      const signed = new Set(Object.keys(request.headers ?? {}));
      const presigned = await presigner.presign(
        { method: request.method, protocol: at.protocol, hostname: at.hostname, port: at.port, path: `${at.pathPrefix}/${key}`, query: request.query, headers: { ...request.headers, host: at.host } },
        { ...opts, signingRegion: region, signingService: 's3', signableHeaders: signed, unhoistableHeaders: signed },
      );
      return formatUrl(presigned);
    },
  };
}

/**
 * The function's signer, configured as its S3 client would be: local mode's public endpoint (or the service's
 * own), else the region and endpoint settings the SDK loads; the default credential chain (`fromEnv` in the bundles).
 */
export const signer = createUrlSigner({
  region: loadConfig(NODE_REGION_CONFIG_OPTIONS, NODE_REGION_CONFIG_FILE_OPTIONS),
  endpoint: env.s3PublicEndpoint ?? env.s3Endpoint,
  useFipsEndpoint: loadConfig(NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS),
  useDualstackEndpoint: loadConfig(NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS),
  credentials: memoize(defaultProvider(), isIdentityExpired, doesIdentityRequireRefresh),
});

/** GetObject, naming the file and its type in the response headers. */
export function getObject(opts: { contentDisposition?: string; contentType?: string } = {}): ObjectRequest {
  const query: Record<string, string> = { 'x-id': 'GetObject' };
  if (opts.contentDisposition !== undefined) query['response-content-disposition'] = opts.contentDisposition;
  if (opts.contentType !== undefined) query['response-content-type'] = opts.contentType;
  return { method: 'GET', query };
}

/** PutObject of `sha256`'s bytes: length, SHA-256, create-only and the waiting version are headers the uploader must send. */
export function putObject(sha256: string, size: number, waiting: string): ObjectRequest & { headers: Record<string, string> } {
  const headers = {
    'content-length': String(size),
    'if-none-match': '*',
    'x-amz-checksum-sha256': hexToBase64(sha256),
    [`x-amz-meta-${VERSION_META}`]: waiting,
  };
  return { method: 'PUT', query: { 'x-id': 'PutObject' }, headers };
}

/** UploadPart: the part's length and declared SHA-256 are headers the uploader must send. */
export function uploadPart(uploadId: string, partNumber: number, size: number, partSha256: string): ObjectRequest & { headers: Record<string, string> } {
  const headers = { 'content-length': String(size), 'x-amz-checksum-sha256': hexToBase64(partSha256) };
  return { method: 'PUT', query: { partNumber: String(partNumber), uploadId, 'x-id': 'UploadPart' }, headers };
}

export function presignGet(key: string, filename: string, contentType?: string): Promise<string> {
  const request = getObject({ contentDisposition: `attachment; filename="${filename.replace(/["\\]/g, '_')}"`, contentType });
  return signer.sign(env.bucket, key, request, { expiresIn: env.presignGetTtl });
}

/** Presigned single PUT to `key` (the upload's own object). */
export async function presignPut(key: string, sha256: string, size: number, waiting: string): Promise<PresignedRequest> {
  const request = putObject(sha256, size, waiting);
  return { method: 'PUT', url: await signer.sign(env.bucket, key, request, { expiresIn: env.presignPutTtl }), headers: request.headers };
}

export async function presignPart(key: string, uploadId: string, partNumber: number, size: number, partSha256: string): Promise<PartUrl> {
  const request = uploadPart(uploadId, partNumber, size, partSha256);
  return { partNumber, url: await signer.sign(env.bucket, key, request, { expiresIn: env.presignPutTtl }), headers: request.headers };
}
