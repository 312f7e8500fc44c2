/**
 * Presigned transfers when the other end dies (the registry killed mid-push, issue 10): every failure is a
 * TransferError the caller can retry or report, never an unhandled 'error' event that ends the process.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransferError, Transfers } from '../../client/transfer.ts';
import { freePort } from '../fixtures/dynamo.ts';

const MIB = 1024 * 1024;
let dir: string;
let file: string;
const unhandled: unknown[] = [];
const onUnhandled = (error: unknown) => unhandled.push(error);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'arca-transfer-'));
  file = path.join(dir, 'part.bin');
  await writeFile(file, Buffer.alloc(8 * MIB, 7));
  process.on('uncaughtException', onUnhandled);
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('uncaughtException', onUnhandled);
  process.off('unhandledRejection', onUnhandled);
  await rm(dir, { recursive: true, force: true });
});

/** A server that reads `after` bytes of a request, then drops the connection (a process killed mid-upload). */
async function dyingServer(after: number): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req) => {
    let seen = 0;
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen >= after) req.socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/bucket/key`, close: () => new Promise((r) => server.close(() => r())) };
}

/** Lets late 'error' events fire, then hands back (and clears) what reached the process unhandled. */
async function settle(): Promise<unknown[]> {
  await new Promise((r) => setTimeout(r, 200));
  return unhandled.splice(0);
}

describe('Transfers against a dead endpoint', () => {
  it('a PUT to a port nobody listens on (ECONNREFUSED) fails with a retryable TransferError', async () => {
    const transfers = new Transfers(4);
    const url = `http://127.0.0.1:${await freePort()}/bucket/key`;
    const error = await transfers.put(url, {}, file, { start: 0, end: 8 * MIB }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransferError);
    expect((error as TransferError).message).toMatch(/ECONNREFUSED/);
    expect((error as TransferError).retryable).toBe(true);
    transfers.close();
    expect(await settle()).toEqual([]);
  });

  it('a PUT whose connection is dropped mid-body, on a kept-alive socket, fails with a TransferError', async () => {
    const server = await dyingServer(MIB);
    const transfers = new Transfers(1);
    for (let i = 0; i < 3; i++) {
      const error = await transfers.put(server.url, {}, file, { start: 0, end: 8 * MIB }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransferError);
    }
    transfers.close();
    await server.close();
    expect(await settle()).toEqual([]);
  });

  it('a GET to a port nobody listens on fails with a TransferError', async () => {
    const transfers = new Transfers(4);
    const url = `http://127.0.0.1:${await freePort()}/bucket/key`;
    const error = await transfers.get(url, { start: 0, end: 10 }, { whole: true, onChunk: () => undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransferError);
    transfers.close();
    expect(await settle()).toEqual([]);
  });
});
