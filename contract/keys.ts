/**
 * Key builders shared by the service and local mode.
 *
 * `versionKey` turns a semantic version into a string whose byte order is semver precedence, so DynamoDB
 * can sort versions and answer "highest matching" with a key condition and `Limit`:
 *   MAJOR.MINOR.PATCH zero-padded to 16 digits, then `~` for a release (sorts above any pre-release) or
 *   `-` and the pre-release identifiers: numeric ones as `0` + 16 digits, alphanumeric ones as `1` + text,
 *   joined by `!` (below every identifier character, so a shorter identifier list sorts first).
 */
import semver from 'semver';

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

/** Where every blob lives: `blobs/sha256/<64 lower-case hex>`, its content's SHA-256. */
export const BLOB_PREFIX = 'blobs/sha256/';

export const blobKey = (sha256: string): string => `${BLOB_PREFIX}${sha256}`;

/** The digest a blob's key names; `undefined` for any other key. */
export function parseBlobKey(key: string): string | undefined {
  const sha256 = key.startsWith(BLOB_PREFIX) ? key.slice(BLOB_PREFIX.length) : '';
  return /^[0-9a-f]{64}$/.test(sha256) ? sha256 : undefined;
}
