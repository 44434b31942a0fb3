// Flat config: typescript-eslint recommended plus the house rules of design.md §10.
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'eslint.config.js', 'jest.config.js'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/tmux/tmux-runner.ts'],
    rules: {
      // One spawn point: child_process stays inside the runner.
      'no-restricted-imports': ['error', { paths: ['child_process', 'node:child_process'] }],
    },
  },
  {
    files: ['src/**/*.types.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['@nestjs/swagger', 'class-validator'] }] },
  },
);
