import type { DbOrTransaction } from '../db/in-transaction.ts';

export async function insertOrganisation(db: DbOrTransaction, name: string) {
  return db.insertInto('organisations').values({ name }).returning(['id', 'name', 'created_at']).executeTakeFirstOrThrow();
}

export async function findOrganisationByName(db: DbOrTransaction, name: string) {
  return db.selectFrom('organisations').select(['id', 'name', 'created_at']).where('name', '=', name).executeTakeFirst();
}

export async function findOrganisation(db: DbOrTransaction, id: string) {
  return db.selectFrom('organisations').select(['id', 'name', 'created_at']).where('id', '=', id).executeTakeFirst();
}

export async function listOrganisations(db: DbOrTransaction) {
  return db.selectFrom('organisations').select(['id', 'name', 'created_at']).orderBy('name').execute();
}

export function toOrganisation(row: { id: string; name: string; created_at: Date }) {
  return { id: row.id, name: row.name, createdAt: row.created_at.toISOString() };
}
