// Lint rules for the whole workspace. Promise safety is the product, so the type-aware promise rules
// are errors everywhere, tests included.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  // apps/packaging/test/fixtures are a consumer's files, checked by that test against the packed packages.
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', 'apps/packaging/test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A new state, outcome or reason must be handled wherever a switch lists them.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  {
    // The packages read and wait for time only through the scheduler's Clock, which a test replaces
    // with a ManualClock. The few exceptions say why, in place.
    files: ['packages/*/src/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Read time through the Clock (clock.now()), so that a ManualClock controls it.' },
        {
          object: 'performance',
          property: 'now',
          message: 'Read time through the Clock (clock.now()), so that a ManualClock controls it.',
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Wait through the Clock (clock.setTimeout()), so that a ManualClock controls it.' },
        { name: 'setInterval', message: 'Wait through the Clock (clock.setTimeout(), re-armed), so that a ManualClock controls it.' },
      ],
    },
  },
  {
    // Type tests only hand methods to expect() to inspect their types; they never call them unbound.
    files: ['**/typetests/**'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
)
