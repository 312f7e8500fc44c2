/**
 * Key builders shared by the service and local mode.
 *
 * `versionKey` turns a semantic version into a string whose byte order is semver precedence, so DynamoDB
 * can sort versions and answer "highest matching" with a key condition and `Limit`:
 *   MAJOR.MINOR.PATCH zero-padded to 16 digits, then `~` for a release (sorts above any pre-release) or
 *   `-` and the pre-release identifiers: numeric ones as `0` + 16 digits, alphanumeric ones as `1` + text,
 *   joined by `!` (below every identifier character, so a shorter identifier list sorts first).
 */
import { randomBytes } from 'node:crypto';
import * as semver from './semver.ts';

const WIDTH = 16;
const pad = (n: number | string): string => String(n).padStart(WIDTH, '0');

/** Key prefix of every version with that major (and minor), for `begins_with` on partial versions. */
export function versionKeyPrefix(major: number, minor?: number): string {
  return minor === undefined ? `${pad(major)}.` : `${pad(major)}.${pad(minor)}.`;
}

export function versionKey(version: string): string {
  const v = semver.parse(version);
  if (!v) throw new Error(`not a semantic version: ${version}`);
  const core = `${pad(v.major)}.${pad(v.minor)}.${pad(v.patch)}`;
  if (v.prerelease.length === 0) return `${core}~`;
  const ids = v.prerelease.map((id) => (typeof id === 'number' ? `0${pad(id)}` : `1${id}`));
  return `${core}-${ids.join('!')}`;
}

/**
 * Where blobs live. Each upload writes its own object, `blobs/sha256/<64 lower-case hex>/<upload nonce>`,
 * so whoever uploads other bytes under a digest occupies only their own key, never the key an honest
 * upload of that digest writes to (docs/security.md, "Digest poisoning"). Objects stored before per-upload
 * keys sit at `blobs/sha256/<hex>` and are still read (stored entries without a key name them).
 */
export const BLOB_PREFIX = 'blobs/sha256/';

const HEX = /^[0-9a-f]{64}$/;
/** An upload's nonce: 128 random bits, base64url (`uploadNonce`). */
const NONCE = /^[A-Za-z0-9_-]{22}$/;

/** 128 random bits: an upload's key is its own, whoever else uploads the same digest. */
export const uploadNonce = (): string => randomBytes(16).toString('base64url');

/** The object one upload of `sha256` writes to. */
export const uploadKey = (sha256: string, nonce: string): string => `${BLOB_PREFIX}${sha256}/${nonce}`;

/** The object of a blob stored before per-upload keys: read, never written any more. */
export const legacyBlobKey = (sha256: string): string => `${BLOB_PREFIX}${sha256}`;

export interface BlobObject {
  /** The digest the key names (what the bytes must hash to). */
  sha256: string;
  /** The key below the prefix, `<hex>/<nonce>` (or `<hex>` for a legacy object): per-object records use it. */
  id: string;
}

/** The digest and id a blob object's key names; `undefined` for any other key. */
export function parseBlobKey(key: string): BlobObject | undefined {
  if (!key.startsWith(BLOB_PREFIX)) return undefined;
  const id = key.slice(BLOB_PREFIX.length);
  const [sha256 = '', nonce, ...rest] = id.split('/');
  if (!HEX.test(sha256) || rest.length > 0 || (nonce !== undefined && !NONCE.test(nonce))) return undefined;
  return { sha256, id };
}

/** The object key of a per-object record id (`parseBlobKey(key).id`). */
export const blobKeyOfId = (id: string): string => `${BLOB_PREFIX}${id}`;
