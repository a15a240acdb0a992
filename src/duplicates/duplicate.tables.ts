import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';
import type { Database, IncidentsTable, VictimsTable } from '../db/database.ts';

/**
 * Row types for what migrations/2026-11-26-0005-duplicates-merge.ts adds. They live here, next
 * to the only code that writes them, rather than in src/db/database.ts; `duplicatesDb` gives a
 * query builder that knows them. (Shared code that only filters on incidents.merged_into, such
 * as visibleTo, uses a plain column reference.)
 */
export interface DuplicateFlagsTable {
  incident_id: string;
  candidate_id: string;
  score: number;
  reasons: ColumnType<unknown, string, string>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  resolved: Generated<boolean>;
}

export interface DuplicatesDatabase extends Omit<Database, 'incidents' | 'victims'> {
  incidents: IncidentsTable & {
    merged_into: string | null;
    merged_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  };
  victims: VictimsTable & { name_key: string | null };
  duplicate_flags: DuplicateFlagsTable;
}

export function duplicatesDb(db: Kysely<Database> | Transaction<Database>): Kysely<DuplicatesDatabase> {
  return db as unknown as Kysely<DuplicatesDatabase>;
}
