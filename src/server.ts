import closeWithGrace from 'close-with-grace';
import { sql } from 'kysely';
import { seedSampleData } from './sample-data/seed.ts';
import { createApp } from './app.ts';
import { ensureAdminKey } from './auth/bootstrap-admin.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { serveLiveBackups } from './backup/embedded-backup.ts';
import { createDb, type Db } from './db/create-db.ts';
import { closeHttpServer, createHttpServer } from './http/http-server.ts';
import { createRateLimitStore } from './http/rate-limit-store.ts';
import { migrateToLatest } from './db/migrate.ts';
import { EncryptionKeyError, keySourceOf, resolveKeyEncryptionKey, type KeyEncryptionKey } from './crypto/key-encryption-key.ts';
import { refreshKeyringEvery } from './crypto/keyring.ts';
import { startEncryption } from './incidents/encryption-start.ts';
import { startDocumentFiller } from './incidents/incident-documents.ts';
import { createLogger, type Logger } from './logger.ts';
import { startConfiguredWorker } from './webhooks/delivery-worker.ts';

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const logger = createLogger(config.LOG_LEVEL);
// Before the database is opened: without the key nothing starts (README, "Encryption at rest").
let keyEncryptionKey: KeyEncryptionKey;
try {
  keyEncryptionKey = resolveKeyEncryptionKey(keySourceOf(config));
} catch (error) {
  if (!(error instanceof EncryptionKeyError)) throw error;
  logger.fatal(error.message);
  process.exit(1);
}
if (keyEncryptionKey.created) {
  logger.warn(
    { keyFile: keyEncryptionKey.created },
    'Created a data encryption key file for the embedded database. Back it up: without it the protected victims and internal notes cannot be read. In production set DATA_ENCRYPTION_KEY or DATA_ENCRYPTION_KEY_FILE.',
  );
}
const { db, mode, pglite } = await createDb({
  databaseUrl: config.DATABASE_URL,
  dataDir: config.DATA_DIR,
  poolMax: config.DB_POOL_MAX,
  statementTimeoutMs: config.STATEMENT_TIMEOUT_MS,
  replicaUrls: config.DATABASE_REPLICA_URLS,
  replicaMaxLagMs: config.REPLICA_MAX_LAG_MS,
  onPoolError: (error) => logger.warn({ err: error }, 'an idle database connection failed; the pool will replace it'),
});
logger.info(
  { mode, dataDir: mode === 'embedded' ? config.DATA_DIR : undefined, replicas: config.DATABASE_REPLICA_URLS?.length },
  'database opened',
);

try {
  const applied = await migrateToLatest(db);
  if (applied.length) logger.info({ migrations: applied.map((result) => result.migrationName) }, 'migrations applied');
  const encryption = await startEncryption(db, keyEncryptionKey);
  logger.info({ keySource: encryption.source, sealedNow: encryption.sealed || undefined }, 'encryption keys loaded');
  if (mode === 'embedded') await firstStart(db, config, logger);
} catch (error) {
  if (error instanceof EncryptionKeyError) logger.fatal(error.message);
  else logger.fatal({ err: error }, 'could not prepare the database');
  await db.destroy();
  process.exit(1);
}

const rateLimits = await createRateLimitStore(config.REDIS_URL, logger).catch(async (error: unknown) => {
  logger.fatal({ err: error }, 'could not connect to Redis (REDIS_URL) for rate limits');
  await db.destroy();
  process.exit(1);
});

const server = createHttpServer(
  createApp({ db, config, logger, rateLimitStore: rateLimits.store, failedAuthStore: rateLimits.failedAuthStore }),
  config,
  logger,
).listen(config.PORT, config.HOST, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  logger.info({ port, site: `http://localhost:${port}/`, docs: `http://localhost:${port}/docs` }, `Dateline is listening on port ${port}`);
});
// `npm run backup` asks this process for the embedded database's dump (src/backup/embedded-backup.ts).
const stopLiveBackups = pglite ? await serveLiveBackups(db, pglite, config.DATA_DIR, logger) : async () => {};
const stopKeyringRefresh = refreshKeyringEvery(db, undefined, (error) => logger.warn({ err: error }, 'could not re-read the data keys'));
// Stored incident documents left stale by imports and migrations (src/incidents/incident-documents.ts): safe alongside other processes.
const documentFiller = startDocumentFiller(db, {
  onError: (error) => logger.warn({ err: error }, 'could not store incident documents; readers get them shaped from the rows meanwhile'),
});
documentFiller.ready.then(
  (stored) => stored && logger.info({ stored }, 'stored the incident documents left stale by an upgrade or an import'),
  () => {}, // onError above has logged it
);
// Webhook deliveries (src/webhooks/delivery-worker.ts): in this process, safe alongside others.
const webhookWorker = startConfiguredWorker(db, config, logger);

// On SIGTERM/SIGINT: stop accepting connections, let in-flight requests finish, then close the pool.
closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS, logger }, async ({ signal, err }) => {
  if (err) logger.error({ err }, 'shutting down after an error');
  else logger.info({ signal }, 'shutting down');
  await closeHttpServer(server);
  stopKeyringRefresh();
  await documentFiller.stop();
  await stopLiveBackups();
  await webhookWorker?.stop(); // an attempt in flight finishes (WEBHOOKS_TIMEOUT_MS at most) and is recorded
  await rateLimits.close();
  await db.destroy();
  logger.info('stopped');
});

/**
 * The embedded database is for trying Dateline out, so its first start loads the sample
 * incidents and prints an admin key. With PostgreSQL, both are explicit steps
 * (`npm run db:seed`, `npm run keys -- create ...`) and no secret is ever written to the logs.
 */
async function firstStart(db: Db, config: Config, logger: Logger) {
  const started = await db.selectFrom('app_meta').select('value').where('key', '=', 'first_start').executeTakeFirst();
  if (started) return;
  if (config.SEED_ON_FIRST_START && (await seedSampleData(db))) logger.info('loaded the sample incidents');
  const adminKey = await ensureAdminKey(db);
  if (adminKey) {
    const message =
      'Created the first admin key; it is shown only this once. Use it as "Authorization: Bearer <key>" to create organisations and keys.';
    // Shown even when LOG_LEVEL hides warnings: losing it would leave the instance without an admin.
    if (logger.isLevelEnabled('warn')) logger.warn({ adminKey }, message);
    else console.error(`${message}\n${adminKey}`);
  }
  await db
    .insertInto('app_meta')
    .values({ key: 'first_start', value: JSON.stringify(new Date().toISOString()) })
    .execute();
  await sql`checkpoint`.execute(db);
}
