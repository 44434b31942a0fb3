// Flat config: typescript-eslint recommended plus the house rules of design.md §10.
const tseslint = require('typescript-eslint');

const SPAWN = ['child_process', 'node:child_process'];
const FEATURES = ['sessions', 'runs', 'messages', 'health', 'metrics', 'events'];
const LAYERS = ['core', 'domain', 'common', 'tmux', 'workspace', 'errors', 'config'];
/** Imports of the given folders from a file anywhere below src/<folder>/. */
const into = (folders) => folders.flatMap((f) => [`../${f}/*`, `../../${f}/*`, `../../../${f}/*`]);
/** Honest modules (decision 0007): features import the core and the layers, never each other. */
const boundary = (folder, forbidden, message) => ({
  files: [`src/${folder}/**/*.ts`],
  ignores: ['**/*.spec.ts'], // a spec may drive several modules
  rules: {
    'no-restricted-imports': ['error', { paths: SPAWN, patterns: [{ group: into(forbidden), message }] }],
  },
});

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
  ...FEATURES.map((f) =>
    boundary(f, FEATURES.filter((g) => g !== f), 'a feature imports src/core, never another feature'),
  ),
  ...LAYERS.map((l) => boundary(l, FEATURES, 'the core and the layers never import a feature')),
  {
    // the one spawn point (design.md §10)
    files: ['src/tmux/tmux-runner.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: into(FEATURES) }] }] },
  },
  {
    files: ['src/**/*.types.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['@nestjs/swagger', 'class-validator'] }] },
  },
);
