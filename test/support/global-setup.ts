import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { TestProject } from 'vitest/node';
import { createDb } from '../../src/db/create-db.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { startEncryption } from '../../src/incidents/encryption-start.ts';
import { TEST_DATA_ENCRYPTION_KEY } from './encryption-key.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** PostgreSQL mode: the migrated template database each test file clones. */
    postgresTemplate: string | null;
    /** Embedded mode: a dump of a migrated PGlite data folder each test file loads. */
    pgliteTemplatePath: string | null;
  }
}

/**
 * Migrates once per run; each test file then gets its own copy of the migrated database
 * (a cloned PostgreSQL database, or a PGlite loaded from the dump), so files never share state.
 */
export default async function setup(project: TestProject) {
  // The template gets its data keys here, so every database cloned from it shares them.
  const key = process.env.DATA_ENCRYPTION_KEY || TEST_DATA_ENCRYPTION_KEY;
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    const template = `dateline_template_${randomBytes(4).toString('hex')}`;
    const { db: admin } = await createDb({ databaseUrl });
    await sql`create database ${sql.id(template)}`.execute(admin);
    const { db: templateDb } = await createDb({ databaseUrl: withDatabase(databaseUrl, template) });
    await migrateToLatest(templateDb);
    await startEncryption(templateDb, { key });
    await templateDb.destroy();
    project.provide('postgresTemplate', template);
    project.provide('pgliteTemplatePath', null);
    return async () => {
      await sql`drop database if exists ${sql.id(template)} with (force)`.execute(admin);
      await admin.destroy();
    };
  }

  const folder = await mkdtemp(path.join(tmpdir(), 'dateline-test-'));
  const { db, pglite } = await createDb({});
  await migrateToLatest(db);
  await startEncryption(db, { key });
  const dump = await pglite!.dumpDataDir('none');
  await db.destroy();
  const dumpPath = path.join(folder, 'template.tar');
  await writeFile(dumpPath, Buffer.from(await dump.arrayBuffer()));
  project.provide('postgresTemplate', null);
  project.provide('pgliteTemplatePath', dumpPath);
  return () => rm(folder, { recursive: true, force: true });
}

export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
