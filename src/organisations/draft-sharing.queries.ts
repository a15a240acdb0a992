import type { DraftSharing as StoredSharing } from '../db/access-tables.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import type { DraftSharing } from './draft-sharing.schemas.ts';

const TO_API = { none: 'no-one', organisations: 'organisations', researchers: 'all-researchers' } as const;
export const TO_STORED = { 'no-one': 'none', organisations: 'organisations', 'all-researchers': 'researchers' } as const satisfies Record<
  DraftSharing['sharedWith'],
  StoredSharing
>;

/** The organisation's sharing setting; `forUpdate` locks its row for a read-modify-write. */
export async function findDraftSharing(
  db: DbOrTransaction,
  organisationId: string,
  { forUpdate = false } = {},
): Promise<DraftSharing | undefined> {
  let query = db.selectFrom('organisations').select('draft_sharing').where('id', '=', organisationId);
  if (forUpdate) query = query.forNoKeyUpdate();
  const row = await query.executeTakeFirst();
  if (!row) return undefined;
  const shares = await db
    .selectFrom('organisation_draft_shares')
    .select('shared_with')
    .where('organisation_id', '=', organisationId)
    .orderBy('shared_with')
    .execute();
  return { organisationId, sharedWith: TO_API[row.draft_sharing], organisationIds: shares.map((share) => share.shared_with) };
}

export async function storeDraftSharing(db: DbOrTransaction, organisationId: string, sharing: StoredSharing, organisationIds: string[]) {
  await db.updateTable('organisations').set({ draft_sharing: sharing }).where('id', '=', organisationId).execute();
  await db.deleteFrom('organisation_draft_shares').where('organisation_id', '=', organisationId).execute();
  if (organisationIds.length) {
    await db
      .insertInto('organisation_draft_shares')
      .values(organisationIds.map((sharedWith) => ({ organisation_id: organisationId, shared_with: sharedWith })))
      .execute();
  }
}

/** Of these ids, those that are no organisation. */
export async function unknownOrganisations(db: DbOrTransaction, ids: string[]): Promise<string[]> {
  if (!ids.length) return [];
  const rows = await db.selectFrom('organisations').select('id').where('id', 'in', ids).execute();
  const known = new Set(rows.map((row) => row.id));
  return ids.filter((id) => !known.has(id));
}
