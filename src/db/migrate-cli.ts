import { loadConfig } from '../config.ts';
import { createDb } from './create-db.ts';
import { migrateToLatest } from './migrate.ts';

const config = loadConfig();
const { db, mode } = await createDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
try {
  const results = await migrateToLatest(db);
  for (const result of results) console.log(`applied ${result.migrationName}`);
  console.log(results.length ? `Migrated the ${mode} database.` : `The ${mode} database is up to date.`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
