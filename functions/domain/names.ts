/** Asset, flow, run and output names (SPEC R-NAME, R-OUT); alias names are in aliasNames.ts. */
import { SEGMENT_RE } from '../../contract/patterns.ts';
import { validationError } from '../shared/errors.ts';

const MAX_NAME_LENGTH = 256;
const MAX_SEGMENTS = 10;

export function parseAssetName(raw: string): string {
  if (raw.length === 0 || raw.length > MAX_NAME_LENGTH) {
    throw validationError(`asset name must be 1–${MAX_NAME_LENGTH} characters`, { name: raw });
  }
  const segments = raw.split('/');
  if (segments.length > MAX_SEGMENTS) {
    throw validationError(`asset name has ${segments.length} segments; at most ${MAX_SEGMENTS}`, { name: raw });
  }
  const bad = segments.find((s) => !SEGMENT_RE.test(s) || s.includes('..'));
  if (bad !== undefined) {
    throw validationError(
      `asset name segment "${bad}" is invalid: lower-case letters, digits and ._- (not at either end, no ".."), 1–64 characters`,
      { name: raw, segment: bad },
    );
  }
  return raw;
}

/** A flow, run or output name: one R-NAME segment. */
export function parseSegment(what: 'flow' | 'run' | 'output', raw: string): string {
  if (!SEGMENT_RE.test(raw) || raw.includes('..')) {
    throw validationError(`${what} name "${raw}" is invalid: one segment of lower-case letters, digits and ._- (not at either end, no ".."), 1–64 characters`, {
      [what]: raw,
    });
  }
  return raw;
}

/** The run name that reads as "the flow's most recent run"; never a stored run's name. */
export const LATEST_RUN = 'latest';

/** The asset name a flow's routes are authorized on: grants on `flows/…` prefixes cover run outputs. */
export const flowScope = (flow: string): string => `flows/${parseSegment('flow', flow)}`;
