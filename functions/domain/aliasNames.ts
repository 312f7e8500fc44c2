/**
 * Alias names (SPEC R-ALIAS). Apart from names.ts because refusing an alias that reads as a range takes
 * node-semver's range code, which the jobs' bundles, parsing asset and run names only, would otherwise carry.
 */
import * as ranges from '../../contract/semverRanges.ts';
import { ALIAS_RE } from '../../contract/patterns.ts';
import { validationError } from '../shared/errors.ts';

export function parseAliasName(raw: string): string {
  if (raw === 'latest') throw validationError('"latest" is computed and cannot be set as an alias', { alias: raw });
  if (!ALIAS_RE.test(raw)) {
    throw validationError('an alias starts with a lower-case letter, then up to 62 lower-case letters, digits or -', { alias: raw });
  }
  // An alias that reads as a range (`x`) would make specs ambiguous.
  if (ranges.validRange(raw) !== null) throw validationError(`"${raw}" reads as a version range and cannot be an alias`, { alias: raw });
  return raw;
}
