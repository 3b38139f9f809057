// Lint for the whole tree: ESLint's and typescript-eslint's recommended rules (syntax-level, no type
// information, so it runs in seconds). Formatting is prettier's job (.prettierrc.json).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.local/**', 'test-output/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
        fetch: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        performance: 'readonly',
      },
    },
    rules: {
      // `_name` marks a value left unused on purpose (destructuring it away, an unused parameter).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The provider boundary (ARCHITECTURE.md): the domain speaks callsync's own vocabulary
    // (packages/domain/src/events/provider.ts); Retell's shapes and client stay in packages/retell.
    files: ['packages/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['@callsync/retell', 'retell-sdk'].map((name) => ({
            name,
            message: 'the domain imports no provider: use its own types (events/provider.ts, events/event-types.ts).',
          })),
        },
      ],
    },
  },
  {
    // Migrations take Kysely<any> on purpose: frozen in time, they must not depend on today's types.
    files: ['migrations/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Jest's own config files are CommonJS.
    files: ['*.config.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
