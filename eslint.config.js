// @ts-check
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/.next/**',
      '.runbox/**',
      'data/**',
      '**/dist/**',
      'apps/web/next-env.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      // Each file is typed by its nearest tsconfig.json: the root one (packages, docker),
      // apps/web's, e2e's.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      // A promise nobody awaits loses its rejection; one passed where a void callback is
      // expected (an event handler, a forEach) is never awaited either.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      'no-console': 'off',
    },
  },
  {
    // Plain JavaScript has no types to check, and the examples are users' projects (run with
    // node:test, whose describe/it return promises by design), not part of runbox's program.
    files: ['**/*.{js,mjs,cjs}', 'examples/**'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The two rules of hooks. The plugin's recommended set adds the React Compiler's rules; the
    // app does not use the compiler, and those rules flag the usual way a server-rendered page
    // reads localStorage (in an effect, after hydration).
    files: ['apps/web/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },
);
