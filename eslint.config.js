// @ts-check
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * A small rule set: the recommended JavaScript and TypeScript rules, no import cycles between
 * files, and the walls between the areas of src/ (README, "Project layout").
 *
 * AREAS says, for each folder of src/, which other folders it may import. Anything else is an
 * error naming the reason, so a dependency keeps one direction: incidents announce their writes
 * and duplicates listen (never the reverse), writers build on incidents and statistics, generic
 * HTTP knows no roles and no database. `core` is src/config.ts, errors.ts and logger.ts.
 */
const AREAS = {
  core: [],
  db: ['core'],
  http: ['core'],
  crypto: ['db', 'core'],
  audit: ['crypto', 'db', 'core'],
  organisations: ['audit', 'http', 'db', 'core'],
  'access-groups': ['auth', 'audit', 'http', 'db', 'core'],
  auth: ['organisations', 'audit', 'http', 'crypto', 'db', 'core'],
  incidents: ['auth', 'audit', 'http', 'crypto', 'db', 'core'],
  duplicates: ['incidents', 'auth', 'audit', 'http', 'crypto', 'db', 'core'],
  statistics: ['incidents', 'auth', 'http', 'db', 'core'],
  exports: ['incidents', 'statistics', 'auth', 'http', 'crypto', 'db', 'core'],
  imports: ['incidents', 'duplicates', 'organisations', 'auth', 'audit', 'http', 'crypto', 'db', 'core'],
  feeds: ['incidents', 'auth', 'http', 'db', 'core'],
  webhooks: ['incidents', 'auth', 'audit', 'http', 'crypto', 'db', 'core'],
  health: ['http', 'db', 'core'],
  openapi: [
    'feeds',
    'webhooks',
    'incidents',
    'duplicates',
    'statistics',
    'exports',
    'imports',
    'organisations',
    'access-groups',
    'auth',
    'audit',
    'http',
    'db',
    'core',
  ],
  site: ['incidents', 'statistics', 'exports', 'auth', 'http', 'db', 'core'],
  'sample-data': ['incidents', 'organisations', 'auth', 'audit', 'crypto', 'db', 'core'],
  backup: ['db', 'core'],
};

/** Why an arrow must never exist, where the architecture says so. */
const NEVER = {
  'db->http': 'storage knows nothing of HTTP',
  'http->db': 'HTTP helpers take values, not the database',
  'http->auth': 'generic HTTP knows no roles; auth builds on it',
  'incidents->duplicates': 'duplicates listen to incident writes (incidents/incident-hooks.ts)',
  'incidents->feeds': 'feeds listen to incident writes (incidents/incident-hooks.ts)',
  'incidents->webhooks': 'webhooks listen to incident writes (incidents/incident-hooks.ts)',
  'incidents->exports': 'writers build on incidents; src/app.ts passes them in',
  'incidents->imports': 'imports build on incidents, not the reverse',
  'statistics->exports': 'the CSV writer builds on statistics; src/app.ts passes it in',
  'audit->auth': 'the audit log takes an actor value; it knows no keys',
  'organisations->auth': 'keys belong to organisations, not the reverse',
  'core->http': 'config and errors exist before any server',
};

const CORE_FILES = ['config', 'errors', 'logger', 'validation', 'storable-text'];
const areaFiles = (area) => (area === 'core' ? CORE_FILES.map((name) => `src/${name}.ts`) : [`src/${area}/**/*.ts`]);
/** Import specifiers that reach an area's folder from elsewhere in src/ ("../duplicates/x.ts", "./http/x.ts"). */
const reach = (area) => `^(\\./|(\\.\\./)+)${area}/`;

const boundaries = Object.entries(AREAS).map(([area, allowed]) => {
  const forbidden = Object.keys(AREAS).filter((other) => other !== area && !allowed.includes(other));
  return {
    files: areaFiles(area),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...forbidden
              .filter((other) => other !== 'core')
              .map((other) => ({
                regex: reach(other),
                message: `src/${area} may not import src/${other}: ${NEVER[`${area}->${other}`] ?? 'not an arrow of the architecture (eslint.config.js AREAS)'}.`,
              })),
            { regex: '^(\\.\\./)+(seeds|bench|scripts|test)/', message: 'src/ may not import code outside src/.' },
          ],
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'dist/**', 'test-results/**', 'src/site/assets/**/*.min.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: globals.node },
    plugins: { 'import-x': importX },
    settings: {
      // Imports name their .ts files (type stripping): let import-x parse them to follow cycles.
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'off', // test helpers and migrations (Kysely<any>) use it on purpose
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  // The site's enhancements run in the browser.
  { files: ['src/site/assets/**/*.js'], languageOptions: { globals: globals.browser } },
  ...boundaries,
  // The entry points may import every area, but nothing outside src/.
  {
    files: ['src/app.ts', 'src/server.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(\\.\\./)+(seeds|bench|scripts|test)/', message: 'src/ may not import code outside src/.' }] },
      ],
    },
  },
);
