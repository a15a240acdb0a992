import { insertApiKey, revokeApiKey } from '../src/auth/api-key.queries.ts';
import type { WriteContext } from '../src/audit/audit.queries.ts';
import type { Db } from '../src/db/create-db.ts';
import { inTransaction } from '../src/db/in-transaction.ts';
import { changeVerification, createIncident, setVisibility } from '../src/incidents/incident.service.ts';
import { findOrganisationByName, insertOrganisation } from '../src/organisations/organisation.queries.ts';
import { sampleIncidents } from './sample-incidents.ts';

export const SAMPLE_ORGANISATION = 'Dateline sample data';

/**
 * Loads the sample incidents through the same service an editor and a reviewer would use, so
 * they carry a normal audit trail. The two keys used are revoked at the end: nobody can log in
 * as the sample loader. Returns false if the sample organisation already exists.
 */
export function seedSampleData(db: Db): Promise<boolean> {
  // One transaction: an interrupted first start leaves no half-loaded sample data behind.
  return inTransaction(db, async (trx) => {
    if (await findOrganisationByName(trx, SAMPLE_ORGANISATION)) return false;
    const organisation = await insertOrganisation(trx, SAMPLE_ORGANISATION);
    const editorKey = await insertApiKey(trx, { organisationId: organisation.id, name: 'sample data loader (editor)', role: 'editor' });
    const reviewerKey = await insertApiKey(trx, { organisationId: organisation.id, name: 'sample data loader (reviewer)', role: 'reviewer' });
    const as = (key: typeof editorKey): WriteContext => ({
      actor: { kind: 'key', keyId: key.id, organisationId: organisation.id, role: key.role },
      requestId: 'seed',
    });

    for (const sample of sampleIncidents) {
      const created = await createIncident(trx, as(editorKey), sample.incident);
      if (sample.verification) await changeVerification(trx, as(reviewerKey), created.id, sample.verification, undefined);
      await setVisibility(trx, as(reviewerKey), created.id, 'published', undefined);
    }
    await revokeApiKey(trx, editorKey.id);
    await revokeApiKey(trx, reviewerKey.id);
    return true;
  });
}
