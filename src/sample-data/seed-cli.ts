import { loadConfig } from '../config.ts';
import { createDb } from '../db/create-db.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { keySourceOf } from '../crypto/key-encryption-key.ts';
import { startEncryption } from '../incidents/encryption-start.ts';
import { seedSampleData, SAMPLE_ORGANISATION } from './seed.ts';

const config = loadConfig();
const { db, mode } = await createDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
try {
  await migrateToLatest(db);
  await startEncryption(db, keySourceOf(config));
  const seeded = await seedSampleData(db);
  console.log(
    seeded
      ? `Loaded the sample incidents into the ${mode} database, under the organisation "${SAMPLE_ORGANISATION}".`
      : `The ${mode} database already has the organisation "${SAMPLE_ORGANISATION}"; nothing loaded.`,
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
