/** Version strings (SPEC R-VER): strict SemVer 2.0 without build metadata, `MAJOR.MINOR` short form, bumps. */
import semver from 'semver';
import { validationError } from '../shared/errors.ts';

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
  return parsed;
}

/** The version a `bump` creates: from the highest version the asset ever had, or 1.0.0 for the first. */
export function nextVersion(highest: string | undefined, bump: Bump = 'minor'): string {
  if (highest === undefined) return '1.0.0';
  const next = semver.inc(highest, bump);
  if (next === null) throw new Error(`cannot bump stored version ${highest}`);
  return next;
}

export const isPrerelease = (version: string): boolean => semver.prerelease(version) !== null;
