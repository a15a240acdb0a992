import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { countStaleDocuments, fillStaleDocuments } from '../src/incidents/incident-documents.ts';
import { shapeIncident } from '../src/incidents/incident-shapes.ts';
import { selectIncidentTree } from '../src/incidents/incident.queries.ts';
import { seedSampleData } from '../src/sample-data/seed.ts';
import { incidentBody } from './support/factories.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * Stored incident documents (migration 0019, src/incidents/incident-documents.ts): what the
 * public and researchers get from them is, byte for byte, what shaping the rows gives; every
 * write leaves them current or stale, never wrong; and the filler never stores a document
 * older than a write.
 */
const t = useTestApp();

/** What shaping the rows gives, as JSON text: the answer before documents were stored. */
async function shapedFromRows(id: string, view: 'public' | 'research') {
  const tree = await selectIncidentTree(t.app.db).where('incidents.id', '=', id).executeTakeFirstOrThrow();
  return JSON.stringify(shapeIncident(tree, view));
}

const storedDocument = async (id: string) =>
  (await t.app.db.selectFrom('incident_documents').select('public_document').where('incident_id', '=', id).executeTakeFirst())
    ?.public_document;

const cpjRows = readFileSync(new URL('./fixtures/imports/cpj-killed-sample.csv', import.meta.url), 'utf8');

async function expectEveryAnswerAsShaped() {
  const ids = (await t.app.db.selectFrom('incidents').select('id').where('deleted_at', 'is', null).execute()).map((row) => row.id);
  const researcherSees = new Set(
    ((await request(t.app, 'GET', '/v1/incidents?limit=200', { key: t.actors.researcher })).body as { data: { id: string }[] }).data.map(
      (incident) => incident.id,
    ),
  );
  for (const id of ids) {
    const publicAnswer = await request(t.app, 'GET', `/v1/incidents/${id}`);
    if (publicAnswer.status === 200) expect(publicAnswer.text, id).toBe(await shapedFromRows(id, 'public'));
    if (researcherSees.has(id)) {
      const researchAnswer = await request(t.app, 'GET', `/v1/incidents/${id}`, { key: t.actors.researcher });
      expect(researchAnswer.text, id).toBe(await shapedFromRows(id, 'research'));
    }
  }
  const list = await request(t.app, 'GET', '/v1/incidents?limit=200');
  const data = (list.body as { data: { id: string }[] }).data;
  expect(data.length).toBeGreaterThan(0);
  for (const incident of data) expect(JSON.stringify(incident)).toBe(await shapedFromRows(incident.id, 'public'));
}

describe('stored incident documents', () => {
  it('answer, byte for byte, as the rows shaped for the reader do, stored or stale', async () => {
    await seedSampleData(t.app.db);
    // Shared with all researchers, so the research view of drafts is checked too.
    await sql`update organisations set draft_sharing = 'researchers'`.execute(t.app.db);
    await fillStaleDocuments(t.app.db);
    expect(await countStaleDocuments(t.app.db)).toBe(0);
    await expectEveryAnswerAsShaped();

    // A renamed organisation (the name is in every document) makes them stale: readers still get the new name.
    await sql`update organisations set name = name || ' (renamed)'`.execute(t.app.db);
    expect(await countStaleDocuments(t.app.db)).toBeGreaterThan(0);
    await expectEveryAnswerAsShaped();
    expect(await fillStaleDocuments(t.app.db)).toBeGreaterThan(0);
    await expectEveryAnswerAsShaped();
  });

  it('are current when a write through the API commits', async () => {
    const created = await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body: incidentBody() });
    expect(created.status).toBe(201);
    const { id } = created.body as { id: string; version: number };
    expect(await storedDocument(id)).toBe(await shapedFromRows(id, 'public'));

    const patched = await request(t.app, 'PATCH', `/v1/incidents/${id}`, {
      key: t.actors.editor,
      body: { version: 1, title: 'Renamed by the test', victims: [{ name: 'Rami Test', role: 'journalist', protected: true }] },
    });
    expect(patched.status).toBe(200);
    const published = await request(t.app, 'POST', `/v1/incidents/${id}/publish`, { key: t.actors.reviewer, body: { version: 2 } });
    expect(published.status).toBe(200);
    const stored = await storedDocument(id);
    expect(stored).toBe(await shapedFromRows(id, 'public'));
    expect(stored).toContain('Renamed by the test');
    expect(stored).not.toContain('Rami Test'); // protected: withheld in the public document
    expect(stored).not.toContain('Family asked us'); // the internal notes
    expect((await request(t.app, 'GET', `/v1/incidents/${id}`)).text).toBe(stored);
  });

  it('left stale by an import are answered from the rows, then stored by the filler', async () => {
    // Drafts, which researchers see (the first test shared every organisation's drafts with them).
    const imported = await request(t.app, 'POST', '/v1/imports?format=cpj&onError=skip', {
      key: t.actors.editor,
      rawBody: cpjRows,
      headers: { 'content-type': 'text/csv' },
    });
    expect(imported.status, imported.text).toBeLessThan(300);
    expect(await countStaleDocuments(t.app.db)).toBeGreaterThan(0);
    await expectEveryAnswerAsShaped();
    await fillStaleDocuments(t.app.db);
    expect(await countStaleDocuments(t.app.db)).toBe(0);
    await expectEveryAnswerAsShaped();
  });
});

// Two transactions at once: PGlite runs one at a time, so this needs PostgreSQL.
describe.runIf(process.env.DATABASE_URL)('the filler beside a writer', () => {
  it('never stores a document older than a write it did not see', async () => {
    const created = await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body: incidentBody() });
    const { id } = created.body as { id: string };
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const wrote = new Promise<void>((resolve) => (written = resolve));
    // A writer that bypasses the service (no document stored): its statement marks the document stale and holds it.
    const writer = t.app.db.transaction().execute(async (trx) => {
      await sql`update incidents set title = 'Written while the filler ran' where id = ${id}`.execute(trx);
      written();
      await released;
    });
    await wrote;
    await fillStaleDocuments(t.app.db); // skips the row the writer holds
    expect(await storedDocument(id)).toContain('"title":"Reporter attacked'); // the committed state until the writer commits
    release();
    await writer;
    expect(await storedDocument(id)).toBeNull();
    await fillStaleDocuments(t.app.db);
    expect(await storedDocument(id)).toContain('Written while the filler ran');
  });
});
