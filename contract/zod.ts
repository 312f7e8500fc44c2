/**
 * The one zod every schema is built with: `zod/mini`, whose functions tree-shake and whose schemas carry no
 * methods to attach at construction (a cold start builds every schema of its bundle). Mini ships no locale,
 * so the English one classic zod installs by itself is installed here, before any schema parses: validation
 * answers quote its messages. Re-exported whole (`import * as z`), so esbuild still keeps only what is used.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
// What `parse` throws, reached without `z.core`: that namespace, used as a value, pulls every locale and the
// JSON Schema generator into the bundle.
export { $ZodError } from 'zod/v4/core';
