import type { Transaction } from 'kysely';
import { requireRole, type MemberActor } from '../auth/actor.ts';
import { appendAudit, type WriteContext } from '../audit/audit.queries.ts';
import type { Database } from '../db/database.ts';
import { inTransaction, type DbOrTransaction } from '../db/in-transaction.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { announceChanges } from '../incidents/incident-hooks.ts';
import { shapeIncident } from '../incidents/incident-shapes.ts';
import { findIncidentTree, lockOwnIncident } from '../incidents/incident.queries.ts';
import { hasRestrictions, SEALED_WRITE_MESSAGE, writeSealedFrom } from '../incidents/access.queries.ts';
import type { Incident } from '../incidents/incident.schemas.ts';
import {
  replacePerpetratorClaims,
  replaceSources,
  replaceVictims,
  setSearchText,
  updateIncidentColumns,
} from '../incidents/incident-writes.queries.ts';
import { publicSearchText } from '../incidents/search-text.ts';
import { refreshVictimNameKeys } from '../incidents/victim-name-keys.queries.ts';
import { markMerged, resolveFlagsInvolving } from './duplicate.queries.ts';
import type { MergeIncidentInput } from './duplicate.schemas.ts';
import { combineChildren } from './merge-combine.ts';
import { proposeVictimPairs, reviewerVictimPairs, type VictimPair } from './victim-pairing.ts';

/**
 * Merges one incident (the loser, in the path) into another (the survivor, `into`), in one
 * transaction: the survivor takes the loser's victims, claims and sources it lacks; the loser
 * is kept, marked merged_into the survivor and hidden from reads and lists; both versions move
 * on and both get an `incident.merge` audit record. Only a reviewer of the organisation that
 * owns both may merge: another organisation's record is never folded away by someone else.
 *
 * Victims that are the same person are paired (victim-pairing.ts, or the reviewer's
 * `victimPairs`) and kept once; the pairing is in the answer and in the survivor's audit record.
 * A dry run does all of it, answers the same, and rolls back.
 */
type Trx = Transaction<Database>;

async function loadFull(trx: Trx, id: string): Promise<Incident> {
  const row = await findIncidentTree(trx, id);
  if (!row) throw new NotFoundError('Incident not found.');
  return shapeIncident(row, 'full') as Incident;
}

const intoError = (detail: string) => new ValidationError('The request body is not valid.', [{ pointer: '/into', detail }]);

/**
 * 404 when the incident in the path is not the actor's own, visible one (as for every write to
 * another organisation's incident); 403 for a survivor the actor sees but does not own.
 */
async function checkOwnership(trx: Trx, actor: MemberActor, loserId: string, survivorId: string) {
  const loser = await findIncidentTree(trx, loserId, actor);
  if (!loser || loser.organisation_id !== actor.organisationId) throw new NotFoundError('Incident not found.');
  const survivor = await findIncidentTree(trx, survivorId, actor);
  if (!survivor) throw intoError('no incident with this id is visible to you (it may have been deleted or merged)');
  if (survivor.organisation_id !== actor.organisationId) {
    throw new ForbiddenError('Only incidents of your own organisation can be merged, and only into one of your own organisation.');
  }
}

export type MergedIncident = Incident & { victimPairs: VictimPair[]; dryRun?: true };

export async function mergeIncident(
  db: DbOrTransaction,
  context: WriteContext,
  loserId: string,
  input: MergeIncidentInput,
  version: number | undefined,
  { dryRun = false }: { dryRun?: boolean } = {},
): Promise<MergedIncident> {
  const actor = requireRole(context.actor, 'reviewer');
  const survivorId = input.into;
  if (survivorId === loserId) throw intoError('an incident cannot be merged into itself');
  const merge = async (trx: Trx): Promise<MergedIncident> => {
    await checkOwnership(trx, actor, loserId, survivorId);
    // Locks in id order, so two opposite merges running at once cannot deadlock.
    const locked = new Map<string, Awaited<ReturnType<typeof lockOwnIncident>>>();
    for (const id of [loserId, survivorId].sort()) locked.set(id, await lockOwnIncident(trx, id, actor.organisationId));
    const loserLock = locked.get(loserId);
    const survivorLock = locked.get(survivorId);
    if (!loserLock) throw new NotFoundError('Incident not found.');
    if (!survivorLock) throw intoError('no incident with this id is visible to you (it may have been deleted or merged)');
    for (const id of [loserId, survivorId]) if (await writeSealedFrom(trx, actor, id)) throw new ForbiddenError(SEALED_WRITE_MESSAGE);
    if (await hasRestrictions(trx, loserId)) {
      throw new ConflictError(
        "This incident, or a victim in it, is restricted to access groups, and a merge would not carry the restriction over. Ask your organisation's admin to lift it (PUT /v1/incidents/{id}/access-groups) or merge the other way.",
      );
    }
    const versions = { currentVersion: loserLock.version, intoCurrentVersion: survivorLock.version };
    if (version !== undefined && version !== loserLock.version) {
      throw new ConflictError(
        `The incident was changed since you read it (you sent version ${version}, it is now ${loserLock.version}).`,
        versions,
      );
    }
    if (input.intoVersion !== undefined && input.intoVersion !== survivorLock.version) {
      throw new ConflictError(
        `The survivor was changed since you read it (you sent version ${input.intoVersion}, it is now ${survivorLock.version}).`,
        versions,
      );
    }

    const loserBefore = await loadFull(trx, loserId);
    const survivorBefore = await loadFull(trx, survivorId);
    // Checked before anything is written: a bad pairing is a 400 that changes nothing.
    const victimPairs = input.victimPairs
      ? reviewerVictimPairs(survivorBefore.victims, loserBefore.victims, input.victimPairs)
      : proposeVictimPairs(survivorBefore.victims, loserBefore.victims);
    const combined = combineChildren(survivorBefore, loserBefore, victimPairs);
    await replaceVictims(trx, survivorId, combined.victims);
    await replacePerpetratorClaims(trx, survivorId, combined.perpetratorClaims);
    await replaceSources(trx, survivorId, combined.sources);
    await refreshVictimNameKeys(trx, survivorId);
    await updateIncidentColumns(trx, survivorId, {}); // version and updated_at
    const survivorAfter = await loadFull(trx, survivorId);
    await setSearchText(trx, survivorId, publicSearchText(survivorAfter));

    const mergedAt = new Date();
    await markMerged(trx, loserId, survivorId, mergedAt);
    await resolveFlagsInvolving(trx, loserId);

    const organisationId = actor.organisationId;
    await appendAudit(trx, context, {
      action: 'incident.merge',
      entityType: 'incident',
      entityId: loserId,
      organisationId,
      before: loserBefore,
      after: { mergedInto: survivorId, mergedAt: mergedAt.toISOString(), version: loserBefore.version + 1 },
    });
    await appendAudit(trx, context, {
      action: 'incident.merge',
      entityType: 'incident',
      entityId: survivorId,
      organisationId,
      before: survivorBefore,
      after: { ...survivorAfter, victimPairs, mergedFrom: loserId },
    });
    await announceChanges(trx, context, [
      { kind: 'merged', incidentId: loserId, organisationId, wasPublished: loserBefore.visibility === 'published', mergedInto: survivorId },
      { kind: 'updated', incidentId: survivorId, organisationId, wasPublished: survivorBefore.visibility === 'published' },
    ]);
    return { ...survivorAfter, victimPairs };
  };
  return dryRun ? rolledBack(db, merge) : inTransaction(db, merge);
}

/** Thrown out of a dry run's transaction to roll it back, carrying the answer. */
class DryRunRollback extends Error {
  readonly result: MergedIncident;

  constructor(result: MergedIncident) {
    super('dry run: rolled back');
    this.result = result;
  }
}

/**
 * Runs the whole merge (same checks, locks and answer) in a transaction of its own and rolls it
 * back, so a preview can never disagree with the merge it previews. Victims new to the survivor
 * carry ids that were never committed.
 */
async function rolledBack(db: DbOrTransaction, merge: (trx: Trx) => Promise<MergedIncident>): Promise<MergedIncident> {
  if (db.isTransaction) throw new Error('A dry run rolls back a transaction of its own: pass the database, not a transaction.');
  try {
    await db.transaction().execute(async (trx) => {
      throw new DryRunRollback(await merge(trx));
    });
  } catch (error) {
    if (error instanceof DryRunRollback) return { ...error.result, dryRun: true };
    throw error;
  }
  throw new Error('unreachable: a dry run always rolls back');
}
