import type { Kysely, Transaction } from 'kysely';
import type { Database } from './database.ts';

export type DbOrTransaction = Kysely<Database> | Transaction<Database>;

/**
 * Runs `work` in a transaction: a new one on a Kysely instance, or the caller's own when given
 * a transaction already, so a use case can run alone or as one step of a larger all-or-nothing
 * write (an import of many incidents, the sample data).
 */
export function inTransaction<T>(db: DbOrTransaction, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db as Transaction<Database>) : db.transaction().execute(work);
}
