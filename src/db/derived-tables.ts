import { sql, type Transaction } from 'kysely';
import type { Database } from './database.ts';

/**
 * The derived tables (incident_facts for statistics, incident_lists for CSV exports) follow
 * every write through statement-level triggers. A bulk write turns them off for its own
 * transaction and refreshes them once, set-based, for every incident it touched, before it
 * commits (migration 0009: per batch of an import the triggers cost a third of its database
 * time). Readers never see the gap: the transaction commits with the tables refreshed, or not at
 * all. Its incidents' stored documents (migration 0019) are only marked stale then, and stored
 * after it commits (src/incidents/incident-documents.ts); readers meanwhile get them shaped from
 * the rows.
 */
export async function deferDerivedTables(trx: Transaction<Database>): Promise<void> {
  await sql`select set_config('dateline.defer_derived', 'on', true)`.execute(trx);
  deferring.add(trx);
}

/** Transactions that deferred their derived tables: they store no document per write either (incident-documents.ts). */
const deferring = new WeakSet<Transaction<Database>>();

export function defersDerivedTables(trx: Transaction<Database>): boolean {
  return deferring.has(trx);
}

export async function refreshDerivedTables(trx: Transaction<Database>, incidentIds: readonly string[]): Promise<void> {
  await sql`select set_config('dateline.defer_derived', 'off', true)`.execute(trx);
  deferring.delete(trx);
  if (incidentIds.length) await sql`select refresh_derived_tables(${incidentIds}::uuid[])`.execute(trx);
}
