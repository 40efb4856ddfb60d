// ESLint: typescript-eslint's type-checked recommendations over src, test and bench; Prettier owns layout.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bin/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // tsconfig.eslint.json reads index access as possibly undefined, so the `]!` marks on
      // lookups known to hit stay meaningful (they are the places to check once the compiler does).
      parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test/describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      // A leading underscore marks a value deliberately left unused (e.g. a field dropped by destructuring).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // A timer cleared by a callback defined before the timer is set stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Text cleaning matches control characters on purpose (NUL, C0 controls, ANSI escapes).
      'no-control-regex': 'off',
      // Methods that implement an async interface (a limits store, a listener, a fake) are async
      // without awaiting anything; the rule would force Promise.resolve wrappers instead.
      '@typescript-eslint/require-await': 'off',
      // A caught `unknown` is passed on unchanged (rethrown or rejected), and the fetch body stops a
      // stream with a sentinel value; wrapping either in a new Error would lose what the caller checks.
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
    },
  },
  {
    files: ['src/db/**/*.ts'],
    rules: {
      // The database adapters pass on the query/exec closures of an object built by wrap(); they do not use `this`.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Tests and benchmarks read JSON from fakes, HTTP responses and child processes and assert on
      // its fields; typing every such body would add casts, not safety.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Fakes turn request fields of union types (a string or content parts, a Buffer or frames)
      // into text on purpose, to match on them.
      '@typescript-eslint/no-base-to-string': 'off',
      // An async event handler that rejects fails the run as an unhandled rejection, which a test wants.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // Test support saves prototype methods to patch them, and calls them back with their `this`.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  prettier,
);
