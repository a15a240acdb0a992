import { randomUUID } from 'node:crypto';
import type { Role } from '../../src/auth/actor.ts';
import { insertApiKey } from '../../src/auth/api-key.queries.ts';
import type { Db } from '../../src/db/create-db.ts';
import { insertOrganisation } from '../../src/organisations/organisation.queries.ts';

/** Factories make unique data, so tests in one file never trip over each other. */
export async function createOrganisation(db: Db, name = `Org ${randomUUID().slice(0, 8)}`) {
  return insertOrganisation(db, name);
}

export async function createKey(db: Db, organisationId: string, role: Role): Promise<string> {
  const { key } = await insertApiKey(db, { organisationId, name: `${role} ${randomUUID().slice(0, 8)}`, role });
  return key;
}

/** Keys for every role: two organisations, so "another organisation" cases are easy to write. */
export async function createActors(db: Db) {
  const own = await createOrganisation(db);
  const other = await createOrganisation(db);
  return {
    ownOrganisation: own,
    otherOrganisation: other,
    admin: await createKey(db, own.id, 'admin'),
    editor: await createKey(db, own.id, 'editor'),
    reviewer: await createKey(db, own.id, 'reviewer'),
    researcher: await createKey(db, other.id, 'researcher'),
    otherEditor: await createKey(db, other.id, 'editor'),
    otherReviewer: await createKey(db, other.id, 'reviewer'),
  };
}

export type Actors = Awaited<ReturnType<typeof createActors>>;

/** A valid create-incident body; override any field. */
export function incidentBody(overrides: Record<string, unknown> = {}) {
  return {
    title: `Reporter attacked ${randomUUID().slice(0, 8)}`,
    description: 'Attacked outside the newsroom.',
    internalNotes: 'Family asked us not to contact the outlet.',
    date: { precision: 'day', value: '2024-03-15' },
    location: { country: 'TR', city: 'Istanbul' },
    attackTypes: ['physical_assault'],
    victims: [
      { name: 'Public Person', role: 'journalist', outcome: 'injured' },
      { name: 'Secret Witness Name', role: 'activist', outcome: 'threatened', protected: true },
    ],
    perpetratorClaims: [{ actorName: 'Unknown assailants', actorType: 'unknown', attribution: 'suspected_by_documenter' }],
    sources: [
      { url: 'https://example.org/public-report', title: 'Public report', kind: 'media_report', public: true },
      { url: 'https://example.org/private-tip', title: 'Private tip', kind: 'witness_statement', public: false },
    ],
    ...overrides,
  };
}
