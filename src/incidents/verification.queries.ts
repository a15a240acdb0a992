import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';

export async function listVerificationChanges(db: Kysely<Database>, incidentId: string) {
  const rows = await db
    .selectFrom('verification_changes')
    .leftJoin('api_keys', 'api_keys.id', 'verification_changes.changed_by')
    .select([
      'verification_changes.id',
      'verification_changes.from_status',
      'verification_changes.to_status',
      'verification_changes.note',
      'verification_changes.changed_at',
      'api_keys.name as changed_by_key_name',
    ])
    .where('verification_changes.incident_id', '=', incidentId)
    .orderBy('verification_changes.changed_at')
    .orderBy('verification_changes.id')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    from: row.from_status,
    to: row.to_status,
    note: row.note,
    changedAt: row.changed_at.toISOString(),
    changedBy: row.changed_by_key_name,
  }));
}
