import type { Transaction } from 'kysely';
import type { AuditContext } from '../audit/actor.ts';
import { appendAudit } from '../audit/audit.queries.ts';
import type { Database } from '../db/database.ts';
import { inTransaction, type DbOrTransaction } from '../db/in-transaction.ts';
import { ConflictError } from '../errors.ts';
import { findOrganisationByName, insertOrganisation, toOrganisation } from './organisation.queries.ts';

/**
 * Organisation writes, each with its audit record in one transaction. The only place that
 * creates an organisation: POST /v1/organisations, `npm run keys -- create`, the first admin key
 * and the sample data all come here. Who may do it is the caller's check (an admin key, or the
 * operator's own tool).
 */
export type Organisation = ReturnType<typeof toOrganisation>;

async function insertAudited(trx: Transaction<Database>, context: AuditContext, name: string): Promise<Organisation> {
  const organisation = toOrganisation(await insertOrganisation(trx, name));
  await appendAudit(trx, context, {
    action: 'organisation.create',
    entityType: 'organisation',
    entityId: organisation.id,
    organisationId: organisation.id,
    before: null,
    after: organisation,
  });
  return organisation;
}

/** Creates an organisation; its name must be new (409 otherwise). */
export function createOrganisation(db: DbOrTransaction, context: AuditContext, name: string): Promise<Organisation> {
  return inTransaction(db, async (trx) => {
    if (await findOrganisationByName(trx, name)) throw new ConflictError(`An organisation named "${name}" already exists.`);
    return insertAudited(trx, context, name);
  });
}

/** The organisation with this name, created (and audited) if there is none: for the operator's tools. */
export function findOrCreateOrganisation(
  db: DbOrTransaction,
  context: AuditContext,
  name: string,
): Promise<{ organisation: Organisation; created: boolean }> {
  return inTransaction(db, async (trx) => {
    const existing = await findOrganisationByName(trx, name);
    if (existing) return { organisation: toOrganisation(existing), created: false };
    return { organisation: await insertAudited(trx, context, name), created: true };
  });
}
