import { sql, type Transaction } from 'kysely';
import type { Database } from './database.ts';

/**
 * The derived tables (incident_facts for statistics, incident_lists for CSV exports) follow
 * every write through statement-level triggers. A bulk write turns them off for its own
 * transaction and refreshes them once, set-based, for every incident it touched, before it
 * commits (migration 0009: per batch of an import the triggers cost a third of its database
 * time). Readers never see the gap: the transaction commits with the tables refreshed, or not at all.
 */
export async function deferDerivedTables(trx: Transaction<Database>): Promise<void> {
  await sql`select set_config('dateline.defer_derived', 'on', true)`.execute(trx);
}

export async function refreshDerivedTables(trx: Transaction<Database>, incidentIds: readonly string[]): Promise<void> {
  await sql`select set_config('dateline.defer_derived', 'off', true)`.execute(trx);
  if (incidentIds.length) await sql`select refresh_derived_tables(${incidentIds}::uuid[])`.execute(trx);
}
