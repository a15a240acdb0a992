import type { Role } from './actor.ts';
import { generateApiKey, hashApiKey } from './api-key.ts';
import type { Scope } from './scopes.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';

/** What listings show: never the hash, and the secret is not stored at all. */
export const apiKeyColumns = [
  'id',
  'organisation_id',
  'name',
  'role',
  'prefix',
  'scopes',
  'created_at',
  'expires_at',
  'revoked_at',
  'replaced_by',
  'last_used_at',
] as const;

/** The key a token names, whatever its state: the caller tells revoked and expired apart. */
export async function findKeyByToken(db: DbOrTransaction, token: string) {
  return db
    .selectFrom('api_keys')
    .select(['id', 'organisation_id', 'role', 'prefix', 'scopes', 'expires_at', 'revoked_at', 'replaced_by'])
    .where('key_hash', '=', hashApiKey(token))
    .executeTakeFirst();
}

/** The key a token names if it works now: not revoked, not expired. */
export async function findActiveKeyByToken(db: DbOrTransaction, token: string) {
  return db
    .selectFrom('api_keys')
    .select(['id', 'organisation_id', 'role'])
    .where('key_hash', '=', hashApiKey(token))
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
    .executeTakeFirst();
}

/** Creates a key and returns it with the plain secret, which is never retrievable again. */
export async function insertApiKey(
  db: DbOrTransaction,
  input: { organisationId: string; name: string; role: Role; scopes?: readonly Scope[] | null; expiresAt?: Date | null },
) {
  const { key, prefix, hash } = generateApiKey();
  const row = await db
    .insertInto('api_keys')
    .values({
      organisation_id: input.organisationId,
      name: input.name,
      role: input.role,
      prefix,
      key_hash: hash,
      scopes: input.scopes ? [...input.scopes] : null,
      expires_at: input.expiresAt ?? null,
    })
    .returning(apiKeyColumns)
    .executeTakeFirstOrThrow();
  return { ...row, key };
}

export async function listApiKeys(db: DbOrTransaction, organisationId?: string) {
  let query = db.selectFrom('api_keys').select(apiKeyColumns).orderBy('created_at').orderBy('id');
  if (organisationId) query = query.where('organisation_id', '=', organisationId);
  return query.execute();
}

export async function findApiKey(db: DbOrTransaction, id: string, options: { forUpdate?: boolean } = {}) {
  const query = db.selectFrom('api_keys').select(apiKeyColumns).where('id', '=', id);
  return (options.forUpdate ? query.forUpdate() : query).executeTakeFirst();
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

/** Marks a key as replaced by another; it keeps working until `expiresAt`, the end of its grace. */
export async function markReplaced(db: DbOrTransaction, id: string, replacedBy: string, expiresAt: Date) {
  return db
    .updateTable('api_keys')
    .set({ replaced_by: replacedBy, expires_at: expiresAt })
    .where('id', '=', id)
    .returning(apiKeyColumns)
    .executeTakeFirstOrThrow();
}

/** Last-used times, batched by src/auth/last-used.ts: one statement for all keys seen since. */
export async function touchApiKeys(db: DbOrTransaction, ids: string[], usedAt: Date) {
  if (ids.length === 0) return;
  await db.updateTable('api_keys').set({ last_used_at: usedAt }).where('id', 'in', ids).execute();
}
