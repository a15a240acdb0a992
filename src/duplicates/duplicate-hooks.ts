import { incidentHooks } from '../incidents/incident-hooks.ts';
import { flagDuplicates, possibleDuplicates } from './duplicate.service.ts';

/**
 * Duplicate detection listens to incident writes (src/incidents/incident-hooks.ts): a new
 * incident's likely duplicates are stored in duplicate_flags in its transaction, and the create
 * answer lists them as `possibleDuplicates`. Called once by src/app.ts; calling it again changes
 * nothing.
 */
export function listenToIncidentWrites(): void {
  incidentHooks.afterCreate = (trx, context, incidentId) => flagDuplicates(trx, context.actor, incidentId);
  incidentHooks.createdAnswer = async (db, actor, incidentId) => ({ possibleDuplicates: await possibleDuplicates(db, actor, incidentId) });
}
