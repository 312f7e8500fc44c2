/**
 * File rules of a version (SPEC R-META files/formats, R-UPLOAD part sizes) and the stored-item size guard.
 * Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { FORMAT_RE } from '../../contract/patterns.ts';
import type { FileDeclaration } from '../../contract/schemas.ts';
import { ArcaError, conflict, validationError } from '../shared/errors.ts';
import type { StoredFile } from './model.ts';

const MIB = 1024 * 1024;
export const MIN_PART_SIZE = 64 * MIB;
export const MAX_PARTS = 10_000;

/** `max(64 MiB, ceil(size / 10000 / 1 MiB) × 1 MiB)`: a fixed function of size, so clients hash parts in one pass. */
export const partSizeFor = (size: number): number => Math.max(MIN_PART_SIZE, Math.ceil(size / MAX_PARTS / MIB) * MIB);

export const partCount = (size: number, partSize: number): number => Math.max(1, Math.ceil(size / partSize));

/** Bytes in part `n` (1-based): every part is `partSize` but the last, which holds the rest. */
export const partLength = (size: number, partSize: number, n: number): number =>
  n < partCount(size, partSize) ? partSize : size - partSize * (partCount(size, partSize) - 1);

/** The default format: the file's extension, lower-cased, when it is a valid format; else `bin`. */
export function defaultFormat(path: string): string {
  const last = path.slice(path.lastIndexOf('/') + 1);
  const dot = last.lastIndexOf('.');
  const ext = dot > 0 ? last.slice(dot + 1).toLowerCase() : '';
  return FORMAT_RE.test(ext) ? ext : 'bin';
}

export interface FileLimits {
  maxFormats: number;
  multipartThreshold: number;
}

/**
 * Turns declarations into stored files (not yet verified, no upload started), checking paths are unique
 * (also against `existing`), the formats limit over the whole version, and the multipart part list.
 */
export function planFiles(decls: readonly FileDeclaration[], existing: readonly StoredFile[], limits: FileLimits): StoredFile[] {
  const paths = new Set(existing.map((f) => f.path));
  const planned: StoredFile[] = [];
  for (const d of decls) {
    if (paths.has(d.path)) {
      const inExisting = existing.some((f) => f.path === d.path);
      if (inExisting) throw conflict('AlreadyExists', `file "${d.path}" is already part of this version`, { path: d.path });
      throw validationError(`file "${d.path}" is declared twice`, { path: d.path });
    }
    paths.add(d.path);
    const file: StoredFile = {
      path: d.path,
      size: d.size,
      sha256: d.sha256,
      format: d.format ?? defaultFormat(d.path),
      contentType: d.contentType,
      verified: false,
    };
    if (d.size > limits.multipartThreshold) {
      const partSize = partSizeFor(d.size);
      const expected = partCount(d.size, partSize);
      if (!d.parts || d.parts.length !== expected) {
        throw validationError(
          `file "${d.path}" is above the multipart threshold: declare parts, the SHA-256 of each of its ${expected} parts of ${partSize} bytes`,
          { path: d.path, partSize, parts: expected },
        );
      }
      file.partSize = partSize;
      file.parts = Buffer.concat(d.parts.map((p) => Buffer.from(p, 'hex')));
    } else if (d.parts) {
      throw validationError(`file "${d.path}" is at or below the multipart threshold: it goes up in one PUT, without parts`, {
        path: d.path,
      });
    }
    planned.push(file);
  }
  const formats = new Set([...existing, ...planned].map((f) => f.format));
  if (formats.size > limits.maxFormats) {
    throw validationError(`a version holds at most ${limits.maxFormats} formats; this one would hold ${formats.size}`, {
      formats: [...formats].sort(),
    });
  }
  return planned;
}

/** The part digests of a multipart file, hex, in order. */
export function partDigests(file: StoredFile): string[] {
  if (!file.parts) return [];
  const hex = Buffer.from(file.parts).toString('hex');
  return Array.from({ length: hex.length / 64 }, (_, i) => hex.slice(i * 64, i * 64 + 64));
}

/** S3's composite checksum of a multipart object: SHA-256 over the part digests, then `-<parts>`. */
export function compositeChecksum(file: StoredFile): string | undefined {
  if (!file.parts) return undefined;
  const digest = createHash('sha256').update(file.parts).digest('base64');
  return `${digest}-${file.parts.length / 32}`;
}

/**
 * DynamoDB refuses items over 400 KB; SPEC's field limits can add up past that, so a version item is
 * capped at 350 KB (room for status and alias changes) and refused with 413 beyond.
 */
export const MAX_ITEM_BYTES = 350 * 1024;

export function itemBytes(item: unknown): number {
  let bytes = 0;
  const walk = (v: unknown, name: string): void => {
    bytes += Buffer.byteLength(name, 'utf8');
    if (v === null || v === undefined || typeof v === 'boolean') bytes += 1;
    else if (typeof v === 'string') bytes += Buffer.byteLength(v, 'utf8');
    else if (typeof v === 'number') bytes += 21;
    else if (v instanceof Uint8Array) bytes += v.byteLength;
    else if (v instanceof Set) for (const s of v) walk(s, '');
    else if (Array.isArray(v)) {
      bytes += 3;
      for (const x of v) walk(x, '');
    } else if (typeof v === 'object') {
      bytes += 3;
      for (const [k, x] of Object.entries(v)) walk(x, k);
    }
  };
  walk(item, '');
  return bytes;
}

export function assertItemFits(item: unknown): void {
  const bytes = itemBytes(item);
  if (bytes > MAX_ITEM_BYTES) {
    throw new ArcaError(
      'PayloadTooLarge',
      `the version's metadata and file list take ${bytes} bytes; a version holds at most ${MAX_ITEM_BYTES} bytes of them`,
      { bytes, limit: MAX_ITEM_BYTES },
    );
  }
}
