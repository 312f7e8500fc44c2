/**
 * Local mode's S3 stand-in: s3rver on a loopback port, behind the verifying front (local/s3-front.ts) on
 * another. Everything that should behave like S3 talks to the front. s3rver checks no SigV4 signature (it only
 * looks the access key id up) and serves anonymous requests, so it answers only requests carrying the front's
 * per-process token; tests get the token (`storeToken`) to reproduce what the front prevents.
 */
import { mkdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import type { S3Event } from 'aws-lambda';
import S3rver from 's3rver';
import { createS3Front, UPSTREAM_TOKEN_HEADER, type LocalCredentials, type ObjectCreated, type ObjectDigest } from './s3-front.ts';

/**
 * The stand-in's key pair. The access key id is s3rver's built-in one (ids are not secret, presigned URLs carry
 * them); the secret, which the front verifies every signature with, is random per data folder.
 */
export function standInCredentials(secretAccessKey: string): LocalCredentials {
  return { accessKeyId: 'S3RVER', secretAccessKey };
}

export const newStandInSecret = (): string => randomBytes(32).toString('hex');

function sameToken(given: string | undefined, token: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface LocalS3 {
  /** The verifying front: what the service and presigned URLs use. */
  url: string;
  /** s3rver itself, unverified. */
  storeUrl: string;
  /** The token s3rver requires (header `x-arca-front-token`), for tests that bypass the front on purpose. */
  storeToken: string;
  /** The SHA-256 of a completed multipart object of the bucket, when the front could hash it as its parts arrived. */
  arrivedDigest(key: string): Promise<ObjectDigest | undefined>;
  stop(): Promise<void>;
}

export async function startS3(opts: {
  dir: string;
  bucket: string;
  credentials: LocalCredentials;
  port?: number;
  onObjectCreated?: (created: ObjectCreated) => void;
}): Promise<LocalS3> {
  const storeDir = path.join(opts.dir, 'store');
  await mkdir(storeDir, { recursive: true });
  const store = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: storeDir,
    vhostBuckets: false,
    configureBuckets: [{ name: opts.bucket }],
  });
  const storeToken = randomBytes(24).toString('hex');
  // First in the chain (the routes are already registered): refuse before s3rver looks at the request.
  store.middleware.unshift(async (ctx, next) => {
    if (sameToken(ctx.get(UPSTREAM_TOKEN_HEADER), storeToken)) return next();
    ctx.status = 403;
    ctx.type = 'application/xml';
    ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>only the local S3 front reaches this store</Message></Error>';
  });
  const { port: storePort } = await store.run();
  const storeUrl = `http://127.0.0.1:${storePort}`;

  // Half-assembled objects of a previous run: their uploads' states went with it.
  const stagingDir = path.join(opts.dir, 'staged');
  await rm(stagingDir, { recursive: true, force: true });
  await mkdir(stagingDir, { recursive: true });
  const { server: front, arrivedDigest, assemble } = createS3Front({
    upstream: new URL(storeUrl),
    upstreamToken: storeToken,
    storeDir,
    spoolDir: path.join(opts.dir, 'spool'),
    stagingDir,
    storeMetadata: (bucket, key, metadata, md5) => store.store.putMetadata(bucket, key, metadata, md5),
    credentials: opts.credentials,
    onObjectCreated: opts.onObjectCreated,
  });
  // s3rver completes an upload by concatenating its parts and hashing them with MD5 on this thread (9 s for 1 GiB
  // under load); when the front assembled the object as the parts arrived, it is moved into place instead.
  const concatenate = store.store.putObjectMultipart.bind(store.store);
  store.store.putObjectMultipart = async (bucket, uploadId, parts) =>
    (await assemble(bucket, uploadId, parts.map((p) => p.number))) ?? concatenate(bucket, uploadId, parts);
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;

  return {
    url,
    storeUrl,
    storeToken,
    arrivedDigest: (key) => arrivedDigest(opts.bucket, key),
    async stop() {
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      store.httpServer?.closeAllConnections();
      await store.close();
    },
  };
}

/** The S3 event notification S3 would send for a created object (keys URL-encoded, spaces as `+`). */
export function toS3Event(created: ObjectCreated, now: Date = new Date()): S3Event {
  const id = randomBytes(8).toString('hex').toUpperCase();
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: now.toISOString(),
        eventName: created.eventName,
        userIdentity: { principalId: 'local' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': id, 'x-amz-id-2': id },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'arca-local',
          bucket: { name: created.bucket, ownerIdentity: { principalId: 'local' }, arn: `arn:aws:s3:::${created.bucket}` },
          object: {
            key: created.key.split('/').map((s) => encodeURIComponent(s).replace(/%20/g, '+')).join('/'),
            size: created.size,
            eTag: created.etag,
            sequencer: now.getTime().toString(16).toUpperCase(),
          },
        },
      },
    ],
  };
}
