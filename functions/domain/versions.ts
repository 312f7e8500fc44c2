/** Version strings (SPEC R-VER): strict SemVer 2.0 without build metadata, `MAJOR.MINOR` short form, bumps. */
import * as semver from '../../contract/semver.ts';
import { versionKey } from '../../contract/keys.ts';
import { validationError } from '../shared/errors.ts';

/** DynamoDB's limit on a sort key: a version must fit in one as its `versionKey`. */
const MAX_KEY_BYTES = 1024;

const SHORT_FORM = /^(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

export type Bump = 'major' | 'minor' | 'patch';

/** Returns the normalized version (`1.2` → `1.2.0`) or throws ValidationError. */
export function parseVersion(raw: string): string {
  if (raw.includes('+')) throw validationError(`version "${raw}" has build metadata (+…), which Arca does not accept`, { version: raw });
  const full = SHORT_FORM.test(raw) ? `${raw}.0` : raw;
  // `semver.valid` also strips a leading "v" or "="; the spec's versions have neither.
  const parsed = /^\d/.test(full) ? semver.valid(full) : null;
  if (parsed === null || parsed !== full) {
    throw validationError(`"${raw}" is not a semantic version (MAJOR.MINOR.PATCH[-pre-release] or MAJOR.MINOR)`, { version: raw });
  }
  return storable(parsed);
}

/**
 * A valid version Arca can also store and order: numeric pre-release identifiers up to 2^53 − 1 (node-semver keeps
 * larger ones as text, which a sort key cannot order) and a sort key within DynamoDB's limit.
 */
export function storable(version: string): string {
  const numericAsText = semver.prerelease(version)?.some((id) => typeof id === 'string' && /^\d+$/.test(id));
  if (numericAsText) throw validationError(`version "${version}" has a numeric pre-release identifier above 2^53 − 1`, { version });
  if (Buffer.byteLength(versionKey(version)) > MAX_KEY_BYTES) {
    throw validationError(`version "${version}" is too long to store: its pre-release has too many identifiers`, { version });
  }
  return version;
}

/** The version a `bump` creates: from the highest version the asset ever had, or 1.0.0 for the first. */
export function nextVersion(highest: string | undefined, bump: Bump = 'minor'): string {
  if (highest === undefined) return '1.0.0';
  const next = semver.inc(highest, bump);
  if (next === null || semver.valid(next) === null) {
    throw validationError(`cannot bump ${highest} by ${bump}: the result is past the largest version; give one explicitly`, { highest, bump });
  }
  return storable(next);
}

export const isPrerelease = (version: string): boolean => semver.prerelease(version) !== null;
