import { z } from 'zod';

/**
 * Every setting comes from the environment and is checked once at start-up, so a typo in
 * a deployment fails loudly with the variable's name instead of surfacing later as odd behaviour.
 */
const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'use true or false' })
  .transform((value) => ['true', '1', 'yes'].includes(value));

const trustProxyFromEnv = z
  .string()
  .min(1)
  .transform((value): boolean | number | string => {
    if (value === 'true') return true;
    if (value === 'false') return false;
    if (/^\d+$/.test(value)) return Number(value);
    return value; // an address list such as "loopback, 10.0.0.0/8", passed to Express as is
  });

/** Comma-separated postgres:// URLs; each entry is checked on its own, and named by its position (not echoed: it may hold a password). */
const replicaUrlsFromEnv = z.string().transform((value, context) => {
  const urls = value.split(',').map((url) => url.trim());
  urls.forEach((url, index) => {
    const valid = /^postgres(ql)?:\/\//.test(url) && URL.canParse(url);
    if (!valid) {
      context.addIssue({
        code: 'custom',
        message: `entry ${index + 1} of ${urls.length} ${url ? 'is not a postgres:// connection string' : 'is empty'} (comma-separated postgres:// URLs)`,
      });
    }
  });
  return urls;
});

export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string')
    .optional(),
  DATABASE_REPLICA_URLS: replicaUrlsFromEnv
    .optional()
    .describe(
      'PostgreSQL streaming replicas (comma-separated URLs): anonymous and researchers\' reads, statistics and exports go to them (README, "Read replicas").',
    ),
  REPLICA_MAX_LAG_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(2_000)
    .describe('A replica further behind the primary than this is skipped, and the primary serves its reads.'),
  DATA_DIR: z.string().min(1).default('./data/pglite'),
  DATA_ENCRYPTION_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be the base64 of 32 random bytes (openssl rand -base64 32)')
    .optional()
    .describe('Key-encryption key for protected victims and internal notes (README, "Encryption at rest").'),
  DATA_ENCRYPTION_KEY_FILE: z.string().min(1).optional().describe('A file holding DATA_ENCRYPTION_KEY, instead of the variable.'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional()
    .describe('Shared rate-limit counters for several API processes; in memory when unset.'),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  STATEMENT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(15_000)
    .describe('PostgreSQL cancels any single statement that runs longer, so one heavy request cannot hold the pool.'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: trustProxyFromEnv.default(false),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'use a size such as 512kb or 1mb')
    .default('1mb'),
  IMPORT_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'use a size such as 20mb')
    .default('20mb')
    .describe('Largest CSV accepted by POST /v1/imports; larger files go through npm run import.'),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
  RATE_LIMIT_ANONYMOUS: z.coerce.number().int().min(1).default(60),
  RATE_LIMIT_AUTHENTICATED: z.coerce.number().int().min(1).default(600),
  RATE_LIMIT_FAILED_AUTH: z.coerce
    .number()
    .int()
    .min(1)
    .default(20)
    .describe('Failed authentications (unknown, revoked, expired or malformed keys) one address may make per window before 429.'),
  SEED_ON_FIRST_START: booleanFromEnv.default(true),
  PUBLIC_CACHE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(5)
    .describe('How long a shared cache (nginx, a CDN) may serve a public answer before it revalidates (s-maxage).'),
  PUBLIC_STALE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400)
    .default(30)
    .describe('How long a shared cache may serve its old copy while it revalidates (stale-while-revalidate).'),
  STATISTICS_IN_MEMORY: booleanFromEnv
    .default(true)
    .describe('Keep the statistics facts in memory (about 60 MB at a million incidents), so statistics need no table scan or join.'),
  PUBLIC_SITE: booleanFromEnv
    .default(true)
    .describe('Serve the public site (/, /explore, /statistics...); false for API-only deployments.'),
  PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe(
      'Where readers reach this instance (https://dateline.example.org): links and tag: ids in Atom feeds. Unset: from each request.',
    ),
  WEBHOOKS_ALLOW_PRIVATE: booleanFromEnv
    .default(false)
    .describe('Let webhooks use http:// and private, loopback or link-local addresses: tests and on-premise receivers only.'),
  WEBHOOKS_WORKER: booleanFromEnv.default(true).describe('Run the webhook delivery worker in this process.'),
  WEBHOOKS_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(10_000)
    .describe('Time a receiver has to answer one delivery attempt.'),
  WEBHOOKS_RETRY_SCHEDULE: z
    .string()
    .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'use seconds, comma-separated, e.g. 5,300,1800')
    .optional()
    .describe(
      'Seconds between attempts (before jitter); default 5,30,120,600,1800,3600,7200,14400,28800,28800,28800: 12 attempts over about 32 h.',
    ),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  HEADERS_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(10_000)
    .describe('A client must send the request headers within this time (slowloris protection).'),
  REQUEST_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(120_000)
    .describe('A client must send the whole request, body included, within this time; raise it for imports over slow links.'),
});

/** Settings that are valid alone but not together. */
const configRules = configSchema.superRefine((config, context) => {
  if (config.DATABASE_REPLICA_URLS && !config.DATABASE_URL) {
    context.addIssue({
      code: 'custom',
      path: ['DATABASE_REPLICA_URLS'],
      message:
        'read replicas need PostgreSQL: set DATABASE_URL to the primary, or unset DATABASE_REPLICA_URLS (the embedded database has no replicas)',
    });
  }
  if (config.DATABASE_URL && config.DATABASE_REPLICA_URLS?.includes(config.DATABASE_URL)) {
    context.addIssue({
      code: 'custom',
      path: ['DATABASE_REPLICA_URLS'],
      message: 'names DATABASE_URL itself: list the replicas only (the primary serves reads anyway when no replica can)',
    });
  }
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Treat empty variables as unset so `FOO= npm start` falls back to the default.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = configRules.safeParse(present);
  if (result.success) return result.data;
  const lines = result.error.issues.map(
    (issue) => `  ${issue.path.join('.')}=${JSON.stringify(env[String(issue.path[0])])}: ${issue.message}`,
  );
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}
