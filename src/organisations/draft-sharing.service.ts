import type { AuditContext } from '../audit/actor.ts';
import { appendAudit } from '../audit/audit.queries.ts';
import { inTransaction, type DbOrTransaction } from '../db/in-transaction.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { findDraftSharing, storeDraftSharing, TO_STORED, unknownOrganisations } from './draft-sharing.queries.ts';
import type { DraftSharing, SetDraftSharingInput } from './draft-sharing.schemas.ts';

/**
 * Sharing an organisation's drafts is its own decision: only an admin key of that organisation
 * reads or sets it (an admin of another organisation, even the instance operators', gets 403).
 */
export function requireOwnAdmin(context: AuditContext, organisationId: string): void {
  if (context.actor.organisationId !== organisationId) {
    throw new ForbiddenError('Only an admin key of this organisation may see or change whom it shares its drafts with.');
  }
}

export async function getDraftSharing(db: DbOrTransaction, context: AuditContext, organisationId: string): Promise<DraftSharing> {
  requireOwnAdmin(context, organisationId);
  const sharing = await findDraftSharing(db, organisationId);
  if (!sharing) throw new NotFoundError('Organisation not found.');
  return sharing;
}

/** Replaces the setting as a whole, with its audit record (before and after) in one transaction. */
export function setDraftSharing(
  db: DbOrTransaction,
  context: AuditContext,
  organisationId: string,
  input: SetDraftSharingInput,
): Promise<DraftSharing> {
  requireOwnAdmin(context, organisationId);
  const organisationIds = input.sharedWith === 'organisations' ? input.organisationIds : [];
  return inTransaction(db, async (trx) => {
    const before = await findDraftSharing(trx, organisationId, { forUpdate: true });
    if (!before) throw new NotFoundError('Organisation not found.');
    const fieldErrors = [
      ...(await unknownOrganisations(trx, organisationIds)).map((id) => ({
        pointer: `/organisationIds/${organisationIds.indexOf(id)}`,
        detail: `no organisation has the id ${id}`,
      })),
      ...(organisationIds.includes(organisationId)
        ? [
            {
              pointer: `/organisationIds/${organisationIds.indexOf(organisationId)}`,
              detail: 'your own organisation sees its drafts already',
            },
          ]
        : []),
    ];
    if (fieldErrors.length) throw new ValidationError('The request body is not valid.', fieldErrors);
    await storeDraftSharing(trx, organisationId, TO_STORED[input.sharedWith], organisationIds);
    const after: DraftSharing = { organisationId, sharedWith: input.sharedWith, organisationIds: [...organisationIds].sort() };
    await appendAudit(trx, context, {
      action: 'organisation.draft_sharing',
      entityType: 'organisation',
      entityId: organisationId,
      organisationId,
      before,
      after,
    });
    return after;
  });
}
