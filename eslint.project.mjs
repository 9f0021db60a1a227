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
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowArray: true }],
      // `() => resolve()` / `(x) => void f(x)` callbacks are the codebase's idiom for callbacks.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // T[] for simple element types, Array<...> for unions and generics (the code's existing mix).
      '@typescript-eslint/array-type': ['error', { default: 'array-simple' }],
      // Off: it reports re-checks of state that changes across an await (signal.aborted,
      // this.closed) and the deliberate validation of values from flows, n8n parameters and
      // JSON bodies that the declared types already promise; removing those changes behaviour.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // Off: it asks for `x!` instead of `x as T`, which no-non-null-assertion (strict) forbids.
      '@typescript-eslint/non-nullable-type-assertion-style': 'off',
      // Off: String()/Number() on editor config, n8n parameters and JSON values is deliberate:
      // a flow file or an old workflow can hold a number where the type says string.
      '@typescript-eslint/no-unnecessary-type-conversion': 'off',
      // Off: String(value) on values from flows, n8n parameters and JSON (typed as unions that
      // include objects) is deliberate coercion, mostly for error messages; an object in a
      // template literal is still reported by restrict-template-expressions.
      '@typescript-eslint/no-base-to-string': 'off',
      // '' and 0 mean "not set" in editor config and options: `x || fallback` is meant.
      '@typescript-eslint/prefer-nullish-coalescing': ['error', { ignorePrimitives: { string: true, number: true } }],
      // Passing on a caught error (typed unknown) unchanged is fine.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // Off: `async` on a body without await is how an implementation of a Promise-returning
      // interface turns a throw into a rejection; dropping it would change behaviour.
      '@typescript-eslint/require-await': 'off',
      // As tsc's noUnused*: a leading _ marks a deliberately unused name; rest siblings drop keys.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
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
