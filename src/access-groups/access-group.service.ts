import type { Transaction } from 'kysely';
import type { AuditContext } from '../audit/actor.ts';
import { appendAudit, type AuditEntry } from '../audit/audit.queries.ts';
import type { Database } from '../db/database.ts';
import { inTransaction, type DbOrTransaction } from '../db/in-transaction.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import * as q from './access-group.queries.ts';
import type { AccessGroup, IncidentAccess } from './access-group.schemas.ts';

/**
 * Access groups and the restrictions they make, managed by the organisation's admins: every
 * change runs in one transaction with its audit record. Groups, members and restrictions all
 * belong to the admin's own organisation; anything of another organisation answers 404, like a
 * missing one. Setting an incident's groups is an admin action, not part of an editor's write,
 * so an editor can neither lock colleagues out of an incident nor lock themselves out by mistake.
 */
type Trx = Transaction<Database>;

/** The admin's organisation: groups are managed through an admin key of that organisation. */
export function adminOrganisation(context: AuditContext): string {
  const organisationId = context.actor.organisationId;
  if (!organisationId) throw new ForbiddenError("Access groups are managed with an admin key of the group's organisation.");
  return organisationId;
}

function audit(trx: Trx, context: AuditContext, organisationId: string, entry: Omit<AuditEntry, 'organisationId'>) {
  return appendAudit(trx, context, { ...entry, organisationId });
}

const GROUP_NOT_FOUND = 'Access group not found in your organisation.';

async function lockGroup(trx: Trx, organisationId: string, id: string): Promise<AccessGroup> {
  if (!(await q.lockAccessGroup(trx, organisationId, id))) throw new NotFoundError(GROUP_NOT_FOUND);
  return (await q.findAccessGroup(trx, organisationId, id))!;
}

async function requireNewName(trx: Trx, organisationId: string, name: string) {
  if (await q.findGroupByName(trx, organisationId, name))
    throw new ConflictError(`Your organisation already has an access group named "${name}".`);
}

export function listGroups(db: DbOrTransaction, context: AuditContext): Promise<AccessGroup[]> {
  return q.listAccessGroups(db, adminOrganisation(context));
}

export function createGroup(db: DbOrTransaction, context: AuditContext, name: string): Promise<AccessGroup> {
  const organisationId = adminOrganisation(context);
  return inTransaction(db, async (trx) => {
    await requireNewName(trx, organisationId, name);
    const { id } = await q.insertAccessGroup(trx, organisationId, name);
    const after = (await q.findAccessGroup(trx, organisationId, id))!;
    await audit(trx, context, organisationId, {
      action: 'access_group.create',
      entityType: 'organisation',
      entityId: organisationId,
      before: null,
      after,
    });
    return after;
  });
}

export function renameGroup(db: DbOrTransaction, context: AuditContext, id: string, name: string): Promise<AccessGroup> {
  const organisationId = adminOrganisation(context);
  return inTransaction(db, async (trx) => {
    const before = await lockGroup(trx, organisationId, id);
    if (before.name !== name) await requireNewName(trx, organisationId, name);
    await q.renameAccessGroupRow(trx, id, name);
    const after = { ...before, name };
    await audit(trx, context, organisationId, {
      action: 'access_group.rename',
      entityType: 'organisation',
      entityId: organisationId,
      before,
      after,
    });
    return after;
  });
}

/** A group that still restricts something is not deleted: that would open it to the whole organisation. */
export function deleteGroup(db: DbOrTransaction, context: AuditContext, id: string): Promise<void> {
  const organisationId = adminOrganisation(context);
  return inTransaction(db, async (trx) => {
    const before = await lockGroup(trx, organisationId, id);
    const uses = await q.restrictionsOf(trx, id);
    if (uses.incidents || uses.victims) {
      throw new ConflictError(
        `The group "${before.name}" still restricts ${uses.incidents} incident(s) and ${uses.victims} victim(s); deleting it would open them to your whole organisation. Change their access groups first.`,
        uses,
      );
    }
    await q.deleteAccessGroupRow(trx, id);
    await audit(trx, context, organisationId, {
      action: 'access_group.delete',
      entityType: 'organisation',
      entityId: organisationId,
      before,
      after: null,
    });
  });
}

export function changeMembership(
  db: DbOrTransaction,
  context: AuditContext,
  id: string,
  keyId: string,
  change: 'add' | 'remove',
): Promise<AccessGroup> {
  const organisationId = adminOrganisation(context);
  return inTransaction(db, async (trx) => {
    const before = await lockGroup(trx, organisationId, id);
    if (change === 'add') {
      if (!(await q.findOwnKey(trx, organisationId, keyId))) throw new NotFoundError('No live API key of your organisation has this id.');
      await q.addMember(trx, id, keyId);
    } else {
      await q.removeMember(trx, id, keyId);
    }
    const after = (await q.findAccessGroup(trx, organisationId, id))!;
    await audit(trx, context, organisationId, {
      action: change === 'add' ? 'access_group.add_member' : 'access_group.remove_member',
      entityType: 'organisation',
      entityId: organisationId,
      before,
      after,
    });
    return after;
  });
}

const INCIDENT_NOT_FOUND = 'Incident not found in your organisation.';

async function checkGroups(trx: Trx, organisationId: string, groupIds: string[]) {
  const foreign = await q.foreignGroups(trx, organisationId, groupIds);
  if (foreign.length) {
    throw new ValidationError(
      'The request body is not valid.',
      foreign.map((id) => ({
        pointer: `/groupIds/${groupIds.indexOf(id)}`,
        detail: `your organisation has no access group with the id ${id}`,
      })),
    );
  }
}

export async function getIncidentAccess(db: DbOrTransaction, context: AuditContext, incidentId: string): Promise<IncidentAccess> {
  const organisationId = adminOrganisation(context);
  return inTransaction(db, async (trx) => {
    if (!(await q.lockOwnIncidentForAccess(trx, organisationId, incidentId))) throw new NotFoundError(INCIDENT_NOT_FOUND);
    return q.findIncidentAccess(trx, incidentId);
  });
}

/** Restricts an incident to groups (an empty list lifts the restriction). */
export function setIncidentGroups(
  db: DbOrTransaction,
  context: AuditContext,
  incidentId: string,
  groupIds: string[],
): Promise<IncidentAccess> {
  const organisationId = adminOrganisation(context);
  return inTransaction(db, async (trx) => {
    if (!(await q.lockOwnIncidentForAccess(trx, organisationId, incidentId))) throw new NotFoundError(INCIDENT_NOT_FOUND);
    await checkGroups(trx, organisationId, groupIds);
    const before = await q.findIncidentAccess(trx, incidentId);
    await q.replaceIncidentGroups(trx, incidentId, groupIds);
    const after = await q.findIncidentAccess(trx, incidentId);
    await audit(trx, context, organisationId, {
      action: 'incident.access_groups',
      entityType: 'incident',
      entityId: incidentId,
      before,
      after,
    });
    return after;
  });
}

/**
 * Restricts one protected victim to groups. Only a protected victim: an unprotected one is in
 * the public record, so a restriction could hide nothing. (If it is later unprotected, the
 * restriction stays stored but has no effect while it is not protected.)
 */
export function setVictimGroups(
  db: DbOrTransaction,
  context: AuditContext,
  incidentId: string,
  victimId: string,
  groupIds: string[],
): Promise<IncidentAccess> {
  const organisationId = adminOrganisation(context);
  return inTransaction(db, async (trx) => {
    if (!(await q.lockOwnIncidentForAccess(trx, organisationId, incidentId))) throw new NotFoundError(INCIDENT_NOT_FOUND);
    const victim = await q.findVictim(trx, incidentId, victimId);
    if (!victim) throw new NotFoundError('The incident has no victim with this id.');
    if (groupIds.length && !victim.protected) {
      throw new ConflictError(
        'Only a protected victim can be restricted to access groups: this one is in the public record. Mark it protected first (PATCH the incident).',
      );
    }
    await checkGroups(trx, organisationId, groupIds);
    const before = await q.findIncidentAccess(trx, incidentId);
    await q.replaceVictimGroups(trx, incidentId, victimId, groupIds);
    const after = await q.findIncidentAccess(trx, incidentId);
    await audit(trx, context, organisationId, {
      action: 'incident.victim_access_groups',
      entityType: 'incident',
      entityId: incidentId,
      before,
      after,
    });
    return after;
  });
}
