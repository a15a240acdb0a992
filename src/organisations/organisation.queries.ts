import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database.ts';

type Db = Kysely<Database> | Transaction<Database>;

export async function insertOrganisation(db: Db, name: string) {
  return db.insertInto('organisations').values({ name }).returning(['id', 'name', 'created_at']).executeTakeFirstOrThrow();
}

export async function findOrganisationByName(db: Db, name: string) {
  return db.selectFrom('organisations').select(['id', 'name', 'created_at']).where('name', '=', name).executeTakeFirst();
}

export async function findOrganisation(db: Db, id: string) {
  return db.selectFrom('organisations').select(['id', 'name', 'created_at']).where('id', '=', id).executeTakeFirst();
}

export async function listOrganisations(db: Db) {
  return db.selectFrom('organisations').select(['id', 'name', 'created_at']).orderBy('name').execute();
}

export function toOrganisation(row: { id: string; name: string; created_at: Date }) {
  return { id: row.id, name: row.name, createdAt: row.created_at.toISOString() };
}
