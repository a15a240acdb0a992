import { describe, expect, it } from 'vitest';
import type { KeyActor } from '../src/auth/actor.ts';
import { readableAuditDocument } from '../src/audit/audit-documents.ts';
import { findActiveKeyByToken } from '../src/auth/api-key.queries.ts';
import { inTransaction } from '../src/db/in-transaction.ts';
import { findStoredDuplicates, flagDuplicates } from '../src/duplicates/duplicate.service.ts';
import { createIncidentSchema } from '../src/incidents/incident.schemas.ts';
import { createIncident as createWithService } from '../src/incidents/incident.service.ts';
import { insertIncident, replaceVictims } from '../src/incidents/incident-writes.queries.ts';
import { incidentBody } from './support/factories.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * Duplicate detection and merging over real HTTP. Each test uses its own country and year (or
 * names), so incidents of one test are never candidates in another.
 */
const t = useTestApp();

/** The owning organisation's consent to researchers of every organisation seeing its drafts (README, "Sharing and access groups"). */
async function shareDraftsWithAllResearchers() {
  const shared = await request(t.app, 'PUT', `/v1/organisations/${t.actors.ownOrganisation.id}/sharing`, {
    key: t.actors.admin,
    body: { sharedWith: 'all-researchers' },
  });
  expect(shared.status, shared.text).toBe(200);
}

type Who = 'editor' | 'reviewer' | 'researcher' | 'otherEditor' | 'otherReviewer' | 'admin' | 'public';
const send = (who: Who, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  request(t.app, method, path, { key: who === 'public' ? undefined : t.actors[who], body, headers });

const victim = (name: string, extra: Record<string, unknown> = {}) => ({ name, role: 'journalist', outcome: 'killed', ...extra });

/** An incident about the given victims; everything else from `overrides` or a neutral default. */
function body(victims: unknown[], overrides: Record<string, unknown> = {}) {
  return incidentBody({ victims, perpetratorClaims: [], sources: [], attackTypes: ['killing'], ...overrides });
}

/** A GET that does not follow redirects (fetch does by default). */
async function readWithoutFollowing(who: Who, path: string) {
  const headers: Record<string, string> = who === 'public' ? {} : { authorization: `Bearer ${t.actors[who]}` };
  const response = await fetch(`${t.app.url}${path}`, { headers, redirect: 'manual' });
  await response.body?.cancel();
  return { status: response.status, location: response.headers.get('location') };
}

async function create(who: Who, victims: unknown[], overrides: Record<string, unknown> = {}) {
  const response = await send(who, 'POST', '/v1/incidents', body(victims, overrides));
  expect(response.status, response.text).toBe(201);
  return response.body;
}

async function publish(id: string, who: Who = 'reviewer') {
  const response = await send(who, 'POST', `/v1/incidents/${id}/publish`);
  expect(response.status, response.text).toBe(200);
  return response.body;
}

const at = (country: string, city: string) => ({ location: { country, city } });
const on = (value: string) => ({
  date: value.length === 4 ? { precision: 'year', value } : { precision: value.length === 7 ? 'month' : 'day', value },
});

describe('flagging on create', () => {
  it('flags "Halla Barakat" on a day as a duplicate of "Hala Barakat" in that month, with the reasons', async () => {
    const first = await create('editor', [victim('Hala Barakat')], { ...on('2015-10'), ...at('TR', 'Istanbul') });
    expect(first.possibleDuplicates).toEqual([]);
    const second = await create('editor', [victim('Halla Barakat')], { ...on('2015-10-15'), ...at('TR', 'Istanbul') });
    expect(second.possibleDuplicates).toEqual([
      {
        id: first.id,
        score: 1,
        reasons: [
          {
            kind: 'victim_name',
            detail: 'same victim name once spelling and word order are set aside: "Halla Barakat" and "Hala Barakat"',
          },
          { kind: 'date', detail: 'dates overlap within their precision: 2015-10-15 and 2015-10' },
          { kind: 'country', detail: 'both in TR' },
          { kind: 'attack_type', detail: 'both record killing' },
          { kind: 'city', detail: 'both in Istanbul' },
        ],
        incident: {
          title: first.title,
          date: first.date,
          location: { country: 'TR', city: 'Istanbul' },
          organisation: { name: t.actors.ownOrganisation.name },
        },
      },
    ]);
    const flags = await t.app.db.selectFrom('duplicate_flags').selectAll().where('incident_id', '=', second.id).execute();
    expect(flags).toEqual([
      expect.objectContaining({ candidate_id: first.id, score: 1, resolved: false, reasons: second.possibleDuplicates[0].reasons }),
    ]);
    // The flags belong to the create response, not to the incident.
    const read = await send('editor', 'GET', `/v1/incidents/${second.id}`);
    expect(read.body).not.toHaveProperty('possibleDuplicates');
    const { possibleDuplicates: _flags, ...incident } = second;
    expect(read.body).toEqual(incident);
  });

  it.each([
    ['Abd al- and Abdul', 'Ibrahim Abd al-Qader', 'Ibrahim Abdulkader', 'same victim name', 1, 2002],
    ['name order', 'Hala Barakat', 'Barakat Hala', 'same victim name', 1, 2003],
    ['accents and the article', 'Mustafa Mohamed al-Kharraz', 'Moustafa Mohamed Kharraz', 'same victim name', 1, 2004],
    ['a spelling trigrams catch', 'Rubén Espinosa Becerril', 'Ruben Espinoza Becerril', 'similar victim names', 0.89, 2005],
  ])('matches names across %s', async (_case, firstName, secondName, detail, score, year) => {
    const place = at('MX', `Town ${firstName}`);
    const first = await create('editor', [victim(firstName)], { ...on(`${year}-06-01`), ...place });
    const second = await create('editor', [victim(secondName)], { ...on(`${year}-06-01`), ...place });
    expect(second.possibleDuplicates).toEqual([expect.objectContaining({ id: first.id, score })]);
    expect(second.possibleDuplicates[0].reasons[0]).toEqual({ kind: 'victim_name', detail: expect.stringContaining(detail) });
  });

  it('does not flag unrelated incidents: another name, or the same person in another year and country', async () => {
    const homs = { ...on('2012-02-22'), ...at('SY', 'Homs') };
    const colvin = await create('editor', [victim('Marie Colvin')], homs);
    // Same attack, another victim: listed as a candidate (same place, day and type), never flagged.
    const ochlik = await create('editor', [victim('Rémi Ochlik')], homs);
    expect(ochlik.possibleDuplicates).toEqual([]);
    // The same journalist, attacked years earlier elsewhere: another incident.
    const earlier = await create('editor', [victim('Marie Colvin', { outcome: 'injured' })], {
      ...on('2001-04-16'),
      ...at('LK', 'Vanni'),
      attackTypes: ['physical_assault'],
    });
    expect(earlier.possibleDuplicates).toEqual([]);
    // Nobody named at all.
    const unnamed = await create('editor', [victim('Unidentified')], homs);
    expect(unnamed.possibleDuplicates).toEqual([]);

    const listed = await send('editor', 'GET', `/v1/incidents/${ochlik.id}/duplicates`);
    expect(listed.body.data.map((candidate: any) => [candidate.id, candidate.score])).toEqual(
      [
        [colvin.id, 0.5],
        [unnamed.id, 0.5],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expect(listed.body.data[0].reasons.map((reason: any) => reason.kind)).toEqual(['date', 'country', 'attack_type', 'city']);
  });

  it('lets an importer check a row before writing it, and flag incidents written in the same transaction, idempotently', async () => {
    const key = (await findActiveKeyByToken(t.app.db, t.actors.editor))!;
    const actor: KeyActor = { kind: 'key', keyId: key.id, organisationId: t.actors.ownOrganisation.id, role: 'editor' };
    const input = createIncidentSchema.parse(body([victim('Naji Jerf')], { ...on('2015-12-27'), ...at('TR', 'Gaziantep') }));
    const secondInput = { ...input, date: { precision: 'month' as const, value: '2015-12' } };
    const { first, second, flagged, again, checked } = await inTransaction(t.app.db, async (trx) => {
      const first = await createWithService(trx, { actor, requestId: 'import-test' }, input);
      const [checked] = await findStoredDuplicates(trx, actor, [
        { ...secondInput, victims: [{ name: 'Naji al-Jerf', aliases: [], protected: false }] },
      ]);
      // Rows written without createIncident, then flagged.
      const second = await insertIncident(trx, actor.organisationId, secondInput);
      await replaceVictims(trx, second, [{ name: 'Naji al-Jerf', aliases: [], protected: false }]);
      const flagged = await flagDuplicates(trx, actor, second);
      const again = await flagDuplicates(trx, actor, second);
      return { first, second, flagged, again, checked };
    });
    expect(flagged).toEqual([expect.objectContaining({ id: first.id, score: 1 })]);
    expect(checked).toEqual(flagged);
    expect(again).toEqual(flagged);
    const rows = await t.app.db.selectFrom('duplicate_flags').select('candidate_id').where('incident_id', '=', second).execute();
    expect(rows).toEqual([{ candidate_id: first.id }]);
  });
});

describe('GET /v1/incidents/:id/duplicates', () => {
  it('ranks candidates by score and leaves out weak ones on request', async () => {
    const place = { ...on('2018-03-03'), ...at('IQ', 'Mosul') };
    const subject = await create('editor', [victim('Shifa Gardi')], place);
    const exact = await create('editor', [victim('Shifa Gardi')], place);
    const elsewhere = await create('editor', [victim('Shifaa Gardi')], { ...on('2018-03'), ...at('IQ', 'Erbil') });
    const sameDay = await create('editor', [victim('Someone Else Entirely')], place);
    const otherYear = await create('editor', [victim('Shifa Gardi')], { ...on('2010-01-01'), ...at('IQ', 'Mosul') });

    const all = await send('editor', 'GET', `/v1/incidents/${subject.id}/duplicates`);
    expect(all.status, all.text).toBe(200);
    expect(all.body.data.map((candidate: any) => [candidate.id, candidate.score])).toEqual([
      [exact.id, 1],
      [elsewhere.id, 0.95],
      [otherYear.id, 0.75],
      [sameDay.id, 0.5],
    ]);
    const strong = await send('editor', 'GET', `/v1/incidents/${subject.id}/duplicates?minScore=0.6&limit=2`);
    expect(strong.body.data.map((candidate: any) => candidate.id)).toEqual([exact.id, elsewhere.id]);
    const bad = await send('editor', 'GET', `/v1/incidents/${subject.id}/duplicates?minScore=2`);
    expect(bad.status).toBe(400);
  });

  it('shows only candidates the caller may see', async () => {
    const place = { ...on('2019-07-07'), ...at('PH', 'Cebu') };
    const ownDraft = await create('editor', [victim('Eduardo Dizon')], place);
    const ownPublished = await publish((await create('editor', [victim('Eduardo Dizon')], place)).id);
    const otherDraft = await create('otherEditor', [victim('Eduardo Dizon')], place);
    const otherPublished = await publish((await create('otherEditor', [victim('Eduardo Dizon')], place)).id, 'otherReviewer');
    const ids = async (who: Who, of: string) => {
      const response = await send(who, 'GET', `/v1/incidents/${of}/duplicates`);
      expect(response.status, response.text).toBe(200);
      return response.body.data.map((candidate: any) => candidate.id).sort();
    };
    expect(await ids('editor', ownDraft.id)).toEqual([ownPublished.id, otherPublished.id].sort());
    expect(await ids('otherEditor', otherDraft.id)).toEqual([ownPublished.id, otherPublished.id].sort());
    // Researchers see drafts of their own organisation, and those shared with them (README, "Sharing and access groups").
    expect((await send('researcher', 'GET', `/v1/incidents/${ownDraft.id}/duplicates`)).status).toBe(404);
    expect(await ids('researcher', otherDraft.id)).toEqual([ownPublished.id, otherPublished.id].sort());
    await shareDraftsWithAllResearchers();
    expect(await ids('researcher', ownDraft.id)).toEqual([ownPublished.id, otherDraft.id, otherPublished.id].sort());
    expect(await ids('public', ownPublished.id)).toEqual([otherPublished.id]);
    // A draft's candidates are as private as the draft.
    expect((await send('public', 'GET', `/v1/incidents/${ownDraft.id}/duplicates`)).status).toBe(404);
    expect((await send('otherEditor', 'GET', `/v1/incidents/${ownDraft.id}/duplicates`)).status).toBe(404);
  });

  it('never names a protected victim, and lets nobody outside its organisation match on it', async () => {
    const place = { ...on('2020-02-02'), ...at('BY', 'Minsk') };
    const hidden = await create('editor', [victim('Open Colleague'), victim('Katsiaryna Andreyeva', { protected: true })], place);
    await publish(hidden.id);
    // Another organisation records the same person openly: it must not learn that hidden holds her.
    const probe = await create('otherEditor', [victim('Katsiaryna Andreyeva')], place);
    expect(probe.possibleDuplicates).toEqual([]);
    await publish(probe.id, 'otherReviewer');

    const asOther = await send('otherEditor', 'GET', `/v1/incidents/${probe.id}/duplicates`);
    expect(asOther.body.data).toEqual([expect.objectContaining({ id: hidden.id, score: 0.5 })]);
    expect(asOther.body.data[0].reasons.map((reason: any) => reason.kind)).not.toContain('victim_name');

    const asOwner = await send('editor', 'GET', `/v1/incidents/${hidden.id}/duplicates`);
    expect(asOwner.body.data).toEqual([expect.objectContaining({ id: probe.id, score: 1 })]);
    expect(asOwner.body.data[0].reasons[0]).toEqual({ kind: 'victim_name', detail: "a protected victim's name matches" });

    for (const who of ['public', 'researcher', 'otherReviewer'] as const) {
      const response = await send(who, 'GET', `/v1/incidents/${hidden.id}/duplicates`);
      expect(response.body.data).toEqual([expect.objectContaining({ id: probe.id, score: 0.5 })]);
      expect(response.text).not.toMatch(/Katsiaryna|protected/i);
    }
    expect(asOwner.text).not.toMatch(/Katsiaryna/);
  });
});

describe('POST /v1/incidents/:id/merge', () => {
  /** A survivor and a loser about the same attack, in a country and year no other test uses. */
  async function pair(country: string, year: number) {
    const homs = (overrides: Record<string, unknown> = {}) => ({ ...on(`${year}-02`), ...at(country, 'Baba Amr'), ...overrides });
    const survivor = await create(
      'editor',
      [victim('Anas al-Tarsha'), { name: null, role: 'media_worker', outcome: 'injured' }],
      homs({
        perpetratorClaims: [{ actorName: 'Syrian Arab Army', actorType: 'military', attribution: 'alleged_by_others' }],
        sources: [
          { url: 'https://example.org/report-a', title: 'Report A', kind: 'ngo_report', public: true },
          { url: 'https://example.org/report-b', kind: 'media_report', public: true },
        ],
      }),
    );
    const loser = await create(
      'editor',
      [
        victim('Anas al-Tarsha', { outlet: 'Qatab Homs', nationality: 'SY' }),
        victim('Anass Tarcha', { aliases: ['Anas Tarsha'] }),
        { name: null, role: 'media_worker', outcome: 'injured' },
        victim('Ahmad Hassan'),
      ],
      homs({
        ...on(`${year}-02-24`),
        perpetratorClaims: [
          { actorName: 'Syrian Arab Army', actorType: 'military', attribution: 'alleged_by_others', statement: 'Shelling of Baba Amr.' },
          { actorName: 'Syrian Arab Army', actorType: 'military', attribution: 'alleged_by_victim' },
        ],
        sources: [
          { url: 'https://EXAMPLE.org/report-a/', title: 'Report A (updated)', kind: 'ngo_report', public: true },
          { url: 'https://example.org/other', title: 'report  a', kind: 'ngo_report', public: false },
          { url: 'https://example.org/report-c', title: 'Report C', kind: 'video', public: false },
        ],
      }),
    );
    expect(loser.possibleDuplicates.map((candidate: any) => candidate.id)).toEqual([survivor.id]);
    return { survivor, loser };
  }

  it('combines victims, claims and sources without repeats, redirects the loser and audits both', async () => {
    const { survivor, loser } = await pair('SY', 2012);
    const response = await send('reviewer', 'POST', `/v1/incidents/${loser.id}/merge`, { into: survivor.id, version: 1, intoVersion: 1 });
    expect(response.status, response.text).toBe(200);
    const merged = response.body;
    expect(response.headers.get('etag')).toBe('"2"');
    expect(merged).toMatchObject({ id: survivor.id, version: 2 });
    expect(merged.victims).toEqual([
      { ...survivor.victims[0], outlet: 'Qatab Homs', nationality: 'SY', aliases: ['Anass Tarcha', 'Anas Tarsha'] },
      survivor.victims[1],
      { ...loser.victims[3], id: expect.any(String) },
    ]);
    expect(merged.perpetratorClaims).toEqual([
      { ...survivor.perpetratorClaims[0], statement: 'Shelling of Baba Amr.' },
      { ...loser.perpetratorClaims[1], id: expect.any(String) },
    ]);
    expect(merged.sources).toEqual([
      { ...survivor.sources[0], public: false }, // a private copy keeps it private
      survivor.sources[1],
      { ...loser.sources[2], id: expect.any(String) },
    ]);

    // The loser answers with a redirect; it is kept, with its own children, and hidden from lists.
    expect(await readWithoutFollowing('editor', `/v1/incidents/${loser.id}`)).toEqual({
      status: 308,
      location: `/v1/incidents/${survivor.id}`,
    });
    const followed = await send('editor', 'GET', `/v1/incidents/${loser.id}`);
    const { victimPairs: _pairs, ...survivorRead } = merged; // the pairing is in the merge's answer only
    expect(followed.body).toEqual(survivorRead);
    const row = await t.app.db
      .selectFrom('incidents')
      .select(['merged_into', 'deleted_at', 'version'])
      .where('id', '=', loser.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ merged_into: survivor.id, deleted_at: null, version: 2 });
    const loserVictims = await t.app.db.selectFrom('victims').select('id').where('incident_id', '=', loser.id).execute();
    expect(loserVictims.map((v) => v.id).sort()).toEqual(loser.victims.map((v: any) => v.id).sort());
    const list = await send('editor', 'GET', `/v1/incidents?country=SY&limit=200`);
    expect(list.body.data.map((item: any) => item.id)).not.toContain(loser.id);
    expect(list.body.data.map((item: any) => item.id)).toContain(survivor.id);
    expect((await send('editor', 'PATCH', `/v1/incidents/${loser.id}`, { title: 'x', version: 2 })).status).toBe(404);

    const audit = await t.app.db
      .selectFrom('audit_log')
      .select(['entity_id', 'action', 'before', 'after'])
      .where('action', '=', 'incident.merge')
      .where('entity_id', 'in', [loser.id, survivor.id])
      .orderBy('id')
      .execute();
    // Stored with notes and protected victims sealed; read as written (src/audit/audit-documents.ts).
    const readable = audit.map((entry) => ({
      ...entry,
      before: readableAuditDocument(entry.before),
      after: readableAuditDocument(entry.after),
    }));
    expect(readable).toEqual([
      {
        entity_id: loser.id,
        action: 'incident.merge',
        before: expect.objectContaining({ id: loser.id, version: 1 }),
        after: { mergedInto: survivor.id, mergedAt: expect.any(String), version: 2 },
      },
      {
        entity_id: survivor.id,
        action: 'incident.merge',
        before: expect.objectContaining({ id: survivor.id, version: 1 }),
        after: { ...merged, mergedFrom: loser.id },
      },
    ]);
    const trail = await send('reviewer', 'GET', `/v1/incidents/${loser.id}/audit`);
    expect(trail.body.data.map((entry: any) => entry.action)).toEqual(['incident.create', 'incident.merge']);
    const flags = await t.app.db.selectFrom('duplicate_flags').select('resolved').where('incident_id', '=', loser.id).execute();
    expect(flags).toEqual([{ resolved: true }]);
  });

  it('redirects only callers who may see the survivor', async () => {
    const survivor = await create('editor', [victim('Gerardo Ortega')], { ...on('2011-01-24'), ...at('PH', 'Puerto Princesa') });
    const loser = await publish(
      (await create('editor', [victim('Gerardo Ortega')], { ...on('2011-01-24'), ...at('PH', 'Puerto Princesa') })).id,
    );
    expect((await send('reviewer', 'POST', `/v1/incidents/${loser.id}/merge`, { into: survivor.id })).status).toBe(200);
    const path = `/v1/incidents/${loser.id}`;
    const redirect = { status: 308, location: `/v1/incidents/${survivor.id}` };
    expect(await readWithoutFollowing('public', path)).toEqual({ status: 404, location: null });
    expect(await readWithoutFollowing('otherEditor', path)).toEqual({ status: 404, location: null });
    await shareDraftsWithAllResearchers(); // the survivor is a draft
    expect(await readWithoutFollowing('researcher', path)).toEqual(redirect);
    await publish(survivor.id);
    expect(await readWithoutFollowing('public', path)).toEqual(redirect);
    expect(await readWithoutFollowing('otherEditor', path)).toEqual(redirect);
  });

  it('refuses a stale version of either incident with 409 and changes nothing', async () => {
    const { survivor, loser } = await pair('LB', 2013);
    const mark = Number(
      (
        await t.app.db
          .selectFrom('audit_log')
          .select((eb) => eb.fn.max('id').as('id'))
          .executeTakeFirstOrThrow()
      ).id,
    );
    const staleLoser = await send('reviewer', 'POST', `/v1/incidents/${loser.id}/merge`, { into: survivor.id }, { 'if-match': '"3"' });
    expect(staleLoser.status).toBe(409);
    expect(staleLoser.body).toMatchObject({ type: '/problems/conflict', currentVersion: 1, intoCurrentVersion: 1 });
    const staleSurvivor = await send('reviewer', 'POST', `/v1/incidents/${loser.id}/merge`, {
      into: survivor.id,
      version: 1,
      intoVersion: 7,
    });
    expect(staleSurvivor.status).toBe(409);
    expect(await t.app.db.selectFrom('audit_log').select('id').where('id', '>', mark).execute()).toEqual([]);
    expect((await send('editor', 'GET', `/v1/incidents/${loser.id}`)).body).toMatchObject({ id: loser.id, version: 1 });
  });

  it.each<[string, Who, 'own' | 'otherPublished' | 'self' | 'unknown', number]>([
    ['an editor', 'editor', 'own', 403],
    ['a researcher', 'researcher', 'own', 403],
    ['an admin', 'admin', 'own', 403],
    ['an anonymous caller', 'public', 'own', 401],
    ["another organisation's reviewer", 'otherReviewer', 'own', 404],
    ["a reviewer merging into another organisation's incident", 'reviewer', 'otherPublished', 403],
    ['a merge into itself', 'reviewer', 'self', 400],
    ['a merge into an unknown incident', 'reviewer', 'unknown', 400],
  ])('refuses %s', async (_name, who, target, status) => {
    const place = { ...on('2009-11-23'), ...at('PH', 'Ampatuan') };
    const loser = await create('editor', [victim('Victor Nuñez')], place);
    const into = {
      own: async () => (await create('editor', [victim('Victor Nunez')], place)).id,
      otherPublished: async () => (await publish((await create('otherEditor', [victim('Victor Nunez')], place)).id, 'otherReviewer')).id,
      self: async () => loser.id,
      unknown: async () => crypto.randomUUID(),
    }[target];
    const response = await send(who, 'POST', `/v1/incidents/${loser.id}/merge`, { into: await into() });
    expect(response.status, response.text).toBe(status);
    expect((await send('editor', 'GET', `/v1/incidents/${loser.id}`)).status).toBe(200);
  });

  it('answers 404 for an incident that was already merged', async () => {
    const { survivor, loser } = await pair('JO', 2014);
    expect((await send('reviewer', 'POST', `/v1/incidents/${loser.id}/merge`, { into: survivor.id })).status).toBe(200);
    expect((await send('reviewer', 'POST', `/v1/incidents/${loser.id}/merge`, { into: survivor.id })).status).toBe(404);
    const back = await send('reviewer', 'POST', `/v1/incidents/${survivor.id}/merge`, { into: loser.id });
    expect(back.status).toBe(400);
    expect(back.body.errors).toEqual([{ pointer: '/into', detail: expect.stringContaining('merged') }]);
  });
});
