// s3rver ships no type declarations; these cover the part of its API that local mode uses.
declare module 's3rver' {
  import type { Server } from 'node:http';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  /** The part of Koa's context the front-token check reads and writes. */
  interface KoaContext {
    get(header: string): string;
    status: number;
    type: string;
    body: unknown;
  }

  /** s3rver's file system store: the two methods through which local mode completes a multipart upload it assembled. */
  interface FilesystemStore {
    putObjectMultipart(bucket: string, uploadId: string, parts: { number: number; etag: string }[]): Promise<{ size: number; md5: string }>;
    putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  }

  export default class S3rver {
    constructor(options: S3rverOptions);
    /** Koa's middleware chain (S3rver extends Koa), composed when the server starts listening. */
    middleware: ((ctx: KoaContext, next: () => Promise<void>) => Promise<void>)[];
    httpServer?: Server;
    store: FilesystemStore;
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
}
