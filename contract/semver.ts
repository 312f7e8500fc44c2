/**
 * The parts of node-semver the registry uses on single versions, each from its own module: the package's index
 * requires every function and class it has (issue 11). Ranges are in `semverRanges.ts`: node-semver's modules
 * are CommonJS, so a bundle keeps every one a file it imports names, used or not, and range code is half of it.
 * Use as `import * as semver`.
 */
export { default as inc } from 'semver/functions/inc.js';
export { default as gt } from 'semver/functions/gt.js';
export { default as lt } from 'semver/functions/lt.js';
export { default as parse } from 'semver/functions/parse.js';
export { default as prerelease } from 'semver/functions/prerelease.js';
export { default as valid } from 'semver/functions/valid.js';
export type { SemVer } from 'semver';
