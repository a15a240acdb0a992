import { systemActor } from '../audit/actor.ts';
import type { Db } from '../db/create-db.ts';
import { inTransaction } from '../db/in-transaction.ts';
import { changeVerification, createIncident, setVisibility } from '../incidents/incident.service.ts';
import { findOrganisationByName } from '../organisations/organisation.queries.ts';
import { createOrganisation } from '../organisations/organisation.service.ts';
import { sampleIncidents } from './sample-incidents.ts';

export const SAMPLE_ORGANISATION = 'Dateline sample data';

/**
 * Loads the sample incidents through the same services an editor and a reviewer would use, so
 * they carry a normal audit trail, written by the system actor `seed` (acting as editor, then
 * reviewer, of the sample organisation): no API key is made, so nobody can log in as the sample
 * loader. Returns false if the sample organisation already exists.
 */
export function seedSampleData(db: Db): Promise<boolean> {
  // One transaction: an interrupted first start leaves no half-loaded sample data behind.
  return inTransaction(db, async (trx) => {
    if (await findOrganisationByName(trx, SAMPLE_ORGANISATION)) return false;
    const organisation = await createOrganisation(trx, { actor: systemActor('seed'), requestId: 'seed' }, SAMPLE_ORGANISATION);
    const as = (role: 'editor' | 'reviewer') => ({
      actor: systemActor('seed', { organisationId: organisation.id, role }),
      requestId: 'seed',
    });

    for (const sample of sampleIncidents) {
      const created = await createIncident(trx, as('editor'), sample.incident);
      if (sample.verification) await changeVerification(trx, as('reviewer'), created.id, sample.verification, undefined);
      await setVisibility(trx, as('reviewer'), created.id, 'published', undefined);
    }
    return true;
  });
}
