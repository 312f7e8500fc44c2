import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // .venv-python/: bin/test-python's venv, which holds third-party JS (urllib3's emscripten worker).
  { ignores: ['node_modules/', 'cdk.out/', '.arca/', 'coverage/', 'local/console/', 'bench/out/', '.venv-python/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
      // `import { z }` keeps zod's whole namespace (every locale, ~350 KiB) in each function bundle.
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='zod'][importKind='value'] > ImportSpecifier[imported.name='z'][importKind='value']",
          message: "import * as z from 'zod' (tree-shakeable)",
        },
      ],
    },
  },
  {
    // The CLI, the package build, the backfill, local mode's launcher and bench scripts talk to a terminal on purpose.
    files: ['client/cli/**', 'bin/build-client.ts', 'bin/backfill-published.ts', 'local/main.ts', 'bench/**', 'test/deployed/**'],
    rules: { 'no-console': 'off' },
  },
);
