// The ESLint flat config runbox lints a project with when the project has none of its own.
// Bound read-only at /opt/runbox/tools/eslint.config.js; bin/runbox-eslint passes it with --config.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['**/node_modules/', '**/dist/', '**/build/', '**/coverage/'] },
  {
    files: ['**/*.{js,mjs,cjs,jsx,ts,mts,cts,tsx}'],
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
      globals: { ...globals.node, ...globals.browser },
    },
  },
  { files: ['**/*.cjs', '**/*.cts'], languageOptions: { sourceType: 'commonjs' } },
  js.configs.recommended,
  tseslint.configs.recommended,
);
