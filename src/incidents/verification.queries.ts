import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database.ts';

/**
 * An incident's verification history, oldest first. `changedBy` is the name of the key that made
 * the change, or for an entry an import brought from another instance (`imported: true`,
 * migration 0011) the name that instance gave it (src/imports/README.md, "json").
 */
export interface VerificationChange {
  id: string;
  from: string;
  to: string;
  note: string;
  changedAt: string;
  changedBy: string | null;
  /** Present (true) only on an entry an import brought from another instance. */
  imported?: true;
}

export async function listVerificationChanges(
  db: Kysely<Database> | Transaction<Database>,
  incidentId: string,
): Promise<VerificationChange[]> {
  return (await listVerificationChangesOf(db, [incidentId])).get(incidentId) ?? [];
}

/** The histories of many incidents in one statement (the JSON export reads a batch at a time). */
export async function listVerificationChangesOf(db: Kysely<Database> | Transaction<Database>, incidentIds: readonly string[]) {
  const histories = new Map<string, VerificationChange[]>();
  if (!incidentIds.length) return histories;
  const rows = await db
    .selectFrom('verification_changes')
    .leftJoin('api_keys', 'api_keys.id', 'verification_changes.changed_by')
    .select([
      'verification_changes.id',
      'verification_changes.incident_id',
      'verification_changes.from_status',
      'verification_changes.to_status',
      'verification_changes.note',
      'verification_changes.changed_at',
      'verification_changes.import_id',
      'verification_changes.changed_by_name',
      'api_keys.name as changed_by_key_name',
    ])
    .where('verification_changes.incident_id', 'in', [...incidentIds])
    .orderBy('verification_changes.incident_id')
    .orderBy('verification_changes.changed_at')
    .orderBy('verification_changes.id')
    .execute();
  for (const row of rows) {
    const list = histories.get(row.incident_id) ?? [];
    list.push({
      id: row.id,
      from: row.from_status,
      to: row.to_status,
      note: row.note,
      changedAt: row.changed_at.toISOString(),
      changedBy: row.changed_by_key_name ?? row.changed_by_name ?? null,
      ...(row.import_id === null ? {} : { imported: true as const }),
    });
    histories.set(row.incident_id, list);
  }
  return histories;
}
