/**
 * Starts ONE local registry (DynamoDB Local in memory, a temp data dir, free ports) for every integration
 * test file, and hands its coordinates to the tests through vitest's `provide`/`inject`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocal } from '../../local/server.ts';

export interface LocalCoordinates {
  url: string;
  token: string;
  s3Url: string;
  s3StoreUrl: string;
  /** What s3rver requires (header x-arca-front-token) from a test that bypasses the front on purpose. */
  s3StoreToken: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Seconds the local registry took from nothing to answering. */
  startupSeconds: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    arca: LocalCoordinates;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Handlers log every request and event at INFO; keep the test output to warnings and errors.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const dataDir = await mkdtemp(path.join(tmpdir(), 'arca-it-'));
  const started = Date.now();
  const registry = await startLocal({ dataDir, port: 0, inMemory: true });
  project.provide('arca', {
    url: registry.url,
    token: registry.token,
    s3Url: registry.s3Url,
    s3StoreUrl: registry.s3StoreUrl,
    s3StoreToken: registry.s3StoreToken,
    bucket: registry.bucket,
    credentials: registry.credentials,
    startupSeconds: (Date.now() - started) / 1000,
  });
  return async () => {
    await registry.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
