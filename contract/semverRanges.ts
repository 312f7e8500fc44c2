/** node-semver's ranges, apart from `semver.ts` so that bundles resolving no range leave their code out. Use as `import * as ranges`. */
export { default as maxSatisfying } from 'semver/ranges/max-satisfying.js';
export { default as validRange } from 'semver/ranges/valid.js';
export { default as Range } from 'semver/classes/range.js';
export type { Comparator } from 'semver';
