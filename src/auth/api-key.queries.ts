import type { Role } from './actor.ts';
import { generateApiKey, hashApiKey } from './api-key.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';

export const apiKeyColumns = ['id', 'organisation_id', 'name', 'role', 'prefix', 'created_at', 'revoked_at'] as const;

export async function findActiveKeyByToken(db: DbOrTransaction, token: string) {
  return db
    .selectFrom('api_keys')
    .select(['id', 'organisation_id', 'role'])
    .where('key_hash', '=', hashApiKey(token))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

/** Creates a key and returns it with the plain secret, which is never retrievable again. */
export async function insertApiKey(db: DbOrTransaction, input: { organisationId: string; name: string; role: Role }) {
  const { key, prefix, hash } = generateApiKey();
  const row = await db
    .insertInto('api_keys')
    .values({ organisation_id: input.organisationId, name: input.name, role: input.role, prefix, key_hash: hash })
    .returning(apiKeyColumns)
    .executeTakeFirstOrThrow();
  return { ...row, key };
}

export async function listApiKeys(db: DbOrTransaction, organisationId?: string) {
  let query = db.selectFrom('api_keys').select(apiKeyColumns).orderBy('created_at').orderBy('id');
  if (organisationId) query = query.where('organisation_id', '=', organisationId);
  return query.execute();
}

export async function findApiKey(db: DbOrTransaction, id: string) {
  return db.selectFrom('api_keys').select(apiKeyColumns).where('id', '=', id).executeTakeFirst();
}

export async function revokeApiKey(db: DbOrTransaction, id: string) {
  return db
    .updateTable('api_keys')
    .set({ revoked_at: new Date() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returning(apiKeyColumns)
    .executeTakeFirst();
}
