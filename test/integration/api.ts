/**
 * A small typed HTTP client for the integration tests: calls the local registry started by global-setup.ts
 * with its admin token, and helpers for the upload protocol (create → PUT → commit).
 */
import { createHash, randomUUID } from 'node:crypto';
import { expect, inject } from 'vitest';
import type { ErrorBody, ErrorCode } from '../../contract/errors.ts';
import type { FileRecord, VersionRecord } from '../../contract/schemas.ts';

export const arca = () => inject('arca');

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  /** Parsed JSON, or `undefined` when the body is not JSON. */
  body: T;
  text: string;
}

export interface CallOptions {
  /** JSON body. */
  json?: unknown;
  /** Raw body, sent as is. */
  raw?: string | Buffer;
  /** `null` sends no Authorization header; default: the admin token. */
  token?: string | null;
  headers?: Record<string, string>;
}

export async function call<T = unknown>(method: string, path: string, opts: CallOptions = {}): Promise<ApiResponse<T>> {
  const { url, token } = arca();
  const headers: Record<string, string> = { ...opts.headers };
  const auth = opts.token === undefined ? token : opts.token;
  if (auth !== null) headers.authorization = `Bearer ${auth}`;
  let body: string | Buffer | undefined = opts.raw;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${url}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** Asserts the spec's error shape (R-ERR): status, code, a message, and `requestId` equal to `x-request-id`. */
export function expectError(res: ApiResponse<unknown>, status: number, code: ErrorCode): ErrorBody['error'] {
  const body = res.body as ErrorBody;
  expect({ status: res.status, code: body?.error?.code }, res.text).toEqual({ status, code });
  expect(body.error.message).toEqual(expect.any(String));
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return body.error;
}

export const sha256hex = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** A fresh asset name per test, since every test file shares one registry. */
export const uniqueName = (prefix: string): string => `it/${prefix}-${randomUUID().slice(0, 8)}`;

export async function createAsset(name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await call('POST', '/v1/assets', { json: { name, type: 'model', ...extra } });
  expect(res.status, res.text).toBe(201);
}

export interface LocalFile {
  path: string;
  bytes: Buffer;
  format?: string;
}

export const declare = (f: LocalFile) => ({ path: f.path, size: f.bytes.length, sha256: sha256hex(f.bytes), ...(f.format ? { format: f.format } : {}) });

export async function createVersion(name: string, files: LocalFile[], extra: Record<string, unknown> = {}): Promise<ApiResponse<VersionRecord>> {
  return call<VersionRecord>('POST', `/v1/assets/${name}/-/versions`, { json: { files: files.map(declare), ...extra } });
}

/** Sends a file's bytes to its presigned single-PUT URL with exactly the headers the service gave. */
export async function uploadSingle(file: FileRecord, bytes: Buffer): Promise<Response> {
  if (!file.upload) throw new Error(`no single upload for ${file.path}: ${JSON.stringify(file)}`);
  return fetch(file.upload.url, { method: file.upload.method, headers: file.upload.headers, body: bytes });
}

/** Creates a version, uploads every file that is not already present, commits; returns the committed record. */
export async function pushVersion(name: string, files: LocalFile[], extra: Record<string, unknown> = {}): Promise<VersionRecord> {
  const created = await createVersion(name, files, extra);
  expect(created.status, created.text).toBe(201);
  for (const record of created.body.files) {
    if (record.state === 'present') continue;
    const local = files.find((f) => f.path === record.path)!;
    const put = await uploadSingle(record, local.bytes);
    expect(put.status, await put.clone().text()).toBe(200);
  }
  const committed = await call<VersionRecord>('POST', `/v1/assets/${name}/-/versions/${created.body.version}/commit`);
  expect(committed.status, committed.text).toBe(200);
  return committed.body;
}
