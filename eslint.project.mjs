// Project-wide lint: typescript-eslint's strict and stylistic type-checked rules over the
// whole tree; run it with `npm run lint`. eslint.config.mjs is n8n's community-node lint
// (`npm run lint:n8n`, with its own ESLint in tools/n8n-lint), so this one has its own file.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'tools/**', 'node_modules/**', 'examples/**', 'workflows/**', 'docs/**', 'icons/**', '.node-red/**', '.n8n/**', '.tmp/**', '.demo/**', 'coverage/**', 'bench/results/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Numbers and booleans in messages and URLs are the normal case; objects, nullish
      // values and `never` are still reported.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `() => resolve()` / `(x) => void f(x)` callbacks are the codebase's idiom for callbacks.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // T[] for simple element types, Array<...> for unions and generics (the code's existing mix).
      '@typescript-eslint/array-type': ['error', { default: 'array-simple' }],
    },
  },
  {
    // In tests and benchmarks `x!` is an assertion: if it is wrong the test fails right there.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // Plain JavaScript (build scripts, configs, a preloaded probe): no type information.
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  {
    // CommonJS by design (loaded with `node --require`).
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
