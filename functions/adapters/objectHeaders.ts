/**
 * What uploads carry to S3, shared by the signer (presign.ts) and the service's own S3 client (s3.ts) without
 * either pulling in the other: the jobs never sign a URL, the read function never talks to S3.
 */

/** Metadata written with every upload, so the ObjectCreated job knows which version waits for the blob. */
export const VERSION_META = 'arca-version';

/** S3's checksum headers carry SHA-256 in base64; Arca's digests are hex. */
export const hexToBase64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');
