import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.venv/', 'dist/', '.serverless/', '.esbuild/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // core/ must stay pure: the decision logic never reaches AWS or the outside world.
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@aws-sdk/*', '@smithy/*'], message: 'core/ is pure: AWS I/O lives in aws/.' },
            {
              group: ['node:*', 'fs', 'path', 'child_process', 'http', 'https', 'net'],
              message: 'core/ is pure: no I/O.',
            },
            {
              group: ['../aws/*', '../cli/*', '../handlers/*'],
              message: 'core/ depends on nothing outside core/.',
            },
          ],
        },
      ],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
