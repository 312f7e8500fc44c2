/**
 * The parts of node-semver the registry uses, each from its own module: the package's index requires every
 * function and class it has, ~8 KiB more in each Lambda bundle (issue 11). Use as `import * as semver`.
 */
export { default as inc } from 'semver/functions/inc.js';
export { default as gt } from 'semver/functions/gt.js';
export { default as lt } from 'semver/functions/lt.js';
export { default as parse } from 'semver/functions/parse.js';
export { default as prerelease } from 'semver/functions/prerelease.js';
export { default as valid } from 'semver/functions/valid.js';
export { default as maxSatisfying } from 'semver/ranges/max-satisfying.js';
export { default as validRange } from 'semver/ranges/valid.js';
export { default as Range } from 'semver/classes/range.js';
export type { Comparator, SemVer } from 'semver';
