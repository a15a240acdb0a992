import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import { inject } from 'vitest';
import { createDb, type DbHandle } from '../../src/db/create-db.ts';
import { startEncryption } from '../../src/incidents/encryption-start.ts';
import { withDatabase } from './global-setup.ts';

/**
 * A private, migrated database for one test file, in whichever mode the run uses. The statement
 * timeout applies on PostgreSQL only: PGlite runs statements on the caller's thread and has none.
 */
export async function createTestDatabase(options: { statementTimeoutMs?: number } = {}): Promise<DbHandle & { drop: () => Promise<void> }> {
  const template = inject('postgresTemplate');
  const databaseUrl = process.env.DATABASE_URL;
  if (template && databaseUrl) {
    const name = `dateline_test_${randomBytes(6).toString('hex')}`;
    const { db: admin } = await createDb({ databaseUrl });
    await cloneTemplate(admin, name, template);
    const handle = await createDb({
      databaseUrl: withDatabase(databaseUrl, name),
      poolMax: 5,
      statementTimeoutMs: options.statementTimeoutMs,
    });
    await startEncryption(handle.db, { key: process.env.DATA_ENCRYPTION_KEY });
    return {
      ...handle,
      drop: async () => {
        await handle.db.destroy();
        await retryWhileInUse(() => sql`drop database if exists ${sql.id(name)}`.execute(admin));
        await admin.destroy();
      },
    };
  }
  const dump = await readFile(inject('pgliteTemplatePath')!);
  const handle = await createDb({ loadDataDir: new Blob([dump]) });
  await startEncryption(handle.db, { key: process.env.DATA_ENCRYPTION_KEY });
  return { ...handle, drop: () => handle.db.destroy() };
}

/** PostgreSQL refuses to copy a template another CREATE DATABASE is copying; wait and retry. */
function cloneTemplate(admin: DbHandle['db'], name: string, template: string) {
  return retryWhileInUse(() => sql`create database ${sql.id(name)} template ${sql.id(template)}`.execute(admin));
}

/**
 * 55006 "object in use": a template being copied, or a database whose last connections are
 * still closing. Waiting beats `WITH (FORCE)`, which kills sockets pg is already closing.
 */
async function retryWhileInUse(statement: () => Promise<unknown>) {
  for (let attempt = 1; ; attempt++) {
    try {
      await statement();
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}
