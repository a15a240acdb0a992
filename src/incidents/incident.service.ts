import type { Transaction } from 'kysely';
import { requireRole } from '../auth/actor.ts';
import { appendAudit, type WriteContext } from '../audit/audit.queries.ts';
import { inTransaction, type DbOrTransaction } from '../db/in-transaction.ts';
import type { Database } from '../db/database.ts';
import { ConflictError, ForbiddenError, NotFoundError, PreconditionRequiredError, ValidationError, type FieldError } from '../errors.ts';
import { announceChanges, incidentHooks } from './incident-hooks.ts';
import { shapeIncident } from './incident-shapes.ts';
import { childIds, findIncidentTree, lockOwnIncident } from './incident.queries.ts';
import { SEALED_WRITE_MESSAGE, writeSealedFrom } from './access.queries.ts';
import {
  DEATH_TYPE_NEEDS_KILLING,
  deathTypeFits,
  type CreateIncidentInput,
  type Incident,
  type UpdateIncidentInput,
} from './incident.schemas.ts';
import {
  incidentColumns,
  insertIncident,
  replacePerpetratorClaims,
  replaceSources,
  replaceVictims,
  setSearchText,
  updateIncidentColumns,
} from './incident-writes.queries.ts';
import { publicSearchText } from './search-text.ts';
import { refreshVictimNameKeys } from './victim-name-keys.queries.ts';

/**
 * Every write: check the role, lock the incident, check the version, write, then append an
 * audit record with the whole incident before and after, all in one transaction.
 */
type Trx = Transaction<Database>;

async function loadFull(trx: Trx, id: string): Promise<Incident> {
  const row = await findIncidentTree(trx, id);
  if (!row) throw new NotFoundError('Incident not found.');
  return shapeIncident(row, 'full') as Incident;
}

/** Locks an incident of the caller's organisation and checks the version the caller read. */
async function lockForWrite(trx: Trx, context: WriteContext, id: string, expectedVersion: number | undefined, required: boolean) {
  const locked = await lockOwnIncident(trx, id, context.actor.organisationId);
  // Another organisation's incident answers exactly like a missing one, so existence does not leak.
  if (!locked) throw new NotFoundError('Incident not found.');
  // Its own organisation sees it (research view), so a 403 tells nothing new.
  if (await writeSealedFrom(trx, context.actor, id)) throw new ForbiddenError(SEALED_WRITE_MESSAGE);
  if (expectedVersion === undefined && required) {
    throw new PreconditionRequiredError(
      'Send the version you are editing, as an If-Match: "<version>" header or a "version" field, so a concurrent edit is not overwritten.',
      { currentVersion: locked.version },
    );
  }
  if (expectedVersion !== undefined && expectedVersion !== locked.version) {
    throw new ConflictError(
      `The incident was changed since you read it (you sent version ${expectedVersion}, it is now ${locked.version}). Fetch it again and reapply your change.`,
      { currentVersion: locked.version },
    );
  }
  return locked;
}

export async function createIncident(db: DbOrTransaction, context: WriteContext, input: CreateIncidentInput) {
  requireRole(context.actor, 'editor');
  rejectChildIds(input);
  return inTransaction(db, async (trx) => {
    const id = await insertIncident(trx, context.actor.organisationId, input);
    await replaceVictims(trx, id, input.victims);
    await refreshVictimNameKeys(trx, id);
    await replacePerpetratorClaims(trx, id, input.perpetratorClaims);
    await replaceSources(trx, id, input.sources);
    const after = await loadFull(trx, id);
    await setSearchText(trx, id, publicSearchText(after));
    await incidentHooks.afterCreate?.(trx, context, id); // duplicates: stored in duplicate_flags
    await appendAudit(trx, context, {
      action: 'incident.create',
      entityType: 'incident',
      entityId: id,
      organisationId: context.actor.organisationId,
      before: null,
      after,
    });
    await announceChanges(trx, context, [
      { kind: 'created', incidentId: id, organisationId: context.actor.organisationId, wasPublished: false },
    ]);
    return after;
  });
}

export async function updateIncident(
  db: DbOrTransaction,
  context: WriteContext,
  id: string,
  input: UpdateIncidentInput,
  version: number | undefined,
) {
  requireRole(context.actor, 'editor');
  const { version: _bodyVersion, victims, perpetratorClaims, sources, ...fields } = input;
  return inTransaction(db, async (trx) => {
    await lockForWrite(trx, context, id, version, true);
    await checkChildIds(trx, id, input);
    const before = await loadFull(trx, id);
    await updateIncidentColumns(trx, id, incidentColumns(id, fields));
    if (victims) await replaceVictims(trx, id, victims);
    if (victims) await refreshVictimNameKeys(trx, id); // duplicate detection finds victims by these
    if (perpetratorClaims) await replacePerpetratorClaims(trx, id, perpetratorClaims);
    if (sources) await replaceSources(trx, id, sources);
    const after = await loadFull(trx, id);
    if (!deathTypeFits(after)) {
      const pointer = fields.deathType === undefined ? '/attackTypes' : '/deathType';
      throw new ValidationError('The request body is not valid.', [
        { pointer, detail: `${DEATH_TYPE_NEEDS_KILLING}; the incident has type of death "${after.deathType}"` },
      ]);
    }
    await setSearchText(trx, id, publicSearchText(after));
    await appendAudit(trx, context, {
      action: 'incident.update',
      entityType: 'incident',
      entityId: id,
      organisationId: context.actor.organisationId,
      before,
      after,
    });
    await announceChanges(trx, context, [
      { kind: 'updated', incidentId: id, organisationId: context.actor.organisationId, wasPublished: before.visibility === 'published' },
    ]);
    return after;
  });
}

export async function deleteIncident(db: DbOrTransaction, context: WriteContext, id: string, reason: string, version: number | undefined) {
  requireRole(context.actor, 'editor');
  await inTransaction(db, async (trx) => {
    await lockForWrite(trx, context, id, version, false);
    const before = await loadFull(trx, id);
    const deletedAt = new Date();
    await trx
      .updateTable('incidents')
      .set((eb) => ({ deleted_at: deletedAt, deleted_reason: reason, version: eb('version', '+', 1), updated_at: deletedAt }))
      .where('id', '=', id)
      .execute();
    await appendAudit(trx, context, {
      action: 'incident.delete',
      entityType: 'incident',
      entityId: id,
      organisationId: context.actor.organisationId,
      before,
      after: { deletedAt: deletedAt.toISOString(), deletedReason: reason },
    });
    await announceChanges(trx, context, [
      { kind: 'deleted', incidentId: id, organisationId: context.actor.organisationId, wasPublished: before.visibility === 'published' },
    ]);
  });
}

export async function changeVerification(
  db: DbOrTransaction,
  context: WriteContext,
  id: string,
  change: { status: string; note: string },
  version: number | undefined,
) {
  requireRole(context.actor, 'reviewer');
  return inTransaction(db, async (trx) => {
    const locked = await lockForWrite(trx, context, id, version, false);
    if (locked.verification_status === change.status) {
      throw new ConflictError(`The incident is already "${change.status}".`, { currentVersion: locked.version });
    }
    const before = await loadFull(trx, id);
    await trx
      .insertInto('verification_changes')
      .values({
        incident_id: id,
        from_status: locked.verification_status,
        to_status: change.status,
        note: change.note,
        changed_by: context.actor.keyId,
      })
      .execute();
    await updateIncidentColumns(trx, id, { verification_status: change.status });
    const after = await loadFull(trx, id);
    await appendAudit(trx, context, {
      action: 'incident.verification',
      entityType: 'incident',
      entityId: id,
      organisationId: context.actor.organisationId,
      before,
      after,
    });
    await announceChanges(trx, context, [
      {
        kind: 'verification_changed',
        incidentId: id,
        organisationId: context.actor.organisationId,
        wasPublished: before.visibility === 'published',
      },
    ]);
    return after;
  });
}

export async function setVisibility(
  db: DbOrTransaction,
  context: WriteContext,
  id: string,
  visibility: 'draft' | 'published',
  version: number | undefined,
) {
  requireRole(context.actor, 'reviewer');
  return inTransaction(db, async (trx) => {
    const locked = await lockForWrite(trx, context, id, version, false);
    // Publishing a published incident changes nothing, so it writes nothing either.
    if (locked.visibility === visibility) return loadFull(trx, id);
    const before = await loadFull(trx, id);
    await updateIncidentColumns(trx, id, {
      visibility,
      ...(visibility === 'published' ? { published_at: new Date() } : { published_at: null }),
    });
    const after = await loadFull(trx, id);
    await appendAudit(trx, context, {
      action: visibility === 'published' ? 'incident.publish' : 'incident.unpublish',
      entityType: 'incident',
      entityId: id,
      organisationId: context.actor.organisationId,
      before,
      after,
    });
    await announceChanges(trx, context, [
      {
        kind: visibility === 'published' ? 'published' : 'unpublished',
        incidentId: id,
        organisationId: context.actor.organisationId,
        wasPublished: before.visibility === 'published',
      },
    ]);
    return after;
  });
}

const CHILD_LISTS = [
  ['victims', 'victims'],
  ['perpetratorClaims', 'perpetrator_claims'],
  ['sources', 'sources'],
] as const;

/** A new incident has no children yet, so any id sent with one is a client mistake. */
export function rejectChildIds(input: CreateIncidentInput) {
  const errors: FieldError[] = [];
  for (const [field] of CHILD_LISTS) {
    input[field].forEach((item, index) => {
      if (item.id) errors.push({ pointer: `/${field}/${index}/id`, detail: 'a new incident has no existing items; omit the id' });
    });
  }
  if (errors.length) throw new ValidationError('The request body is not valid.', errors);
}

/** Ids in a replaced list must name items of this incident, each at most once. */
async function checkChildIds(trx: Trx, incidentId: string, input: UpdateIncidentInput) {
  const errors: FieldError[] = [];
  for (const [field, table] of CHILD_LISTS) {
    const items = input[field];
    if (!items?.some((item) => item.id)) continue;
    const existing = await childIds(trx, table, incidentId);
    const seen = new Set<string>();
    items.forEach((item, index) => {
      if (!item.id) return;
      if (!existing.has(item.id)) errors.push({ pointer: `/${field}/${index}/id`, detail: 'no such item on this incident' });
      else if (seen.has(item.id)) errors.push({ pointer: `/${field}/${index}/id`, detail: 'this id appears twice' });
      seen.add(item.id);
    });
  }
  if (errors.length) throw new ValidationError('The request body is not valid.', errors);
}
