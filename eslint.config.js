import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.arca/', 'coverage/', 'local/console/', 'bench/out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    // The CLI, local mode's launcher and bench scripts talk to a terminal on purpose.
    files: ['client/cli/**', 'local/main.ts', 'bench/**', 'test/deployed/**'],
    rules: { 'no-console': 'off' },
  },
);
