/**
 * The textual rules of names, formats, digests and file paths, free of zod: the domain checks them on paths
 * that load no schema (a pull parses its spec with these alone), and contract/readSchemas.ts builds its
 * schemas from the same rules.
 */
export const SEGMENT_RE = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
export const ALIAS_RE = /^[a-z][a-z0-9-]{0,62}$/;
export const FORMAT_RE = /^[a-z0-9][a-z0-9._-]{0,15}$/;
export const SHA256_RE = /^[0-9a-f]{64}$/;

export const FILE_PATH_MAX = 512;

/** Relative POSIX with no `.`/`..`/empty segment, no backslash or control character (length aside). */
export function isRelativePosixPath(p: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !p.startsWith('/') && !/[\\\u0000-\u001f\u007f]/.test(p) && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/** A file's path inside a version: `isRelativePosixPath`, 1 to `FILE_PATH_MAX` characters. */
export function isFilePath(p: string): boolean {
  return p.length >= 1 && p.length <= FILE_PATH_MAX && isRelativePosixPath(p);
}
