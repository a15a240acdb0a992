import type { Kysely, Transaction } from 'kysely';
import type { Database } from './database.ts';

/**
 * The version of the incident data as a whole: a trigger bumps it on every write to incidents
 * or their parts (migration 0002). Responses carry it so a figure can be cited ("data version
 * 1042, as of ...") and so unchanged data can be answered with 304 without running the query.
 */
export async function getDataVersion(db: Kysely<Database> | Transaction<Database>) {
  const row = await db.selectFrom('data_version').select(['version', 'changed_at']).executeTakeFirstOrThrow();
  return { dataVersion: row.version, dataAsOf: row.changed_at.toISOString() };
}

export type DataVersion = Awaited<ReturnType<typeof getDataVersion>>;
