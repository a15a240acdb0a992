import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KeyActor } from '../src/auth/actor.ts';
import { findActiveKeyByToken } from '../src/auth/api-key.queries.ts';
import { inTransaction } from '../src/db/in-transaction.ts';
import { findStoredDuplicates } from '../src/duplicates/duplicate.service.ts';
import { createIncidentSchema } from '../src/incidents/incident.schemas.ts';
import { incidentBody, listAllIds, serviceWriter, type ModelIncident } from './support/factories.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * Names across alphabets (issue 13) over HTTP: search (q) and duplicate flagging treat
 * spellings and scripts of one name as one, and keep apart different people who share a first
 * name. test/name-variants.test.ts checks the normaliser over the whole fixture without a database.
 */
const t = useTestApp();
const records = new Map<string, ModelIncident>();

const victim = (name: string, extra: Record<string, unknown> = {}) => ({ name, role: 'journalist', outcome: 'killed', ...extra });
const body = (victims: unknown[], overrides: Record<string, unknown> = {}) => ({
  title: 'Journalist killed',
  date: { precision: 'month', value: '2015-12' },
  location: { country: 'TR', city: 'Gaziantep' },
  attackTypes: ['killing'],
  victims,
  ...overrides,
});

const FIXTURES: Record<string, Record<string, unknown>> = {
  jerf: body([victim('Naji Jerf')]),
  hamdan: body([victim('Naji Hamdan')], { date: { precision: 'year', value: '2014' } }),
  // Written in Arabic script only: found by a Latin spelling.
  hamadi: body([victim('فارس حمادي')], { date: { precision: 'month', value: '2015-10' }, location: { country: 'TR', city: 'Urfa' } }),
  politkovskaya: body([victim('Anna Politkovskaya', { nameOriginal: 'Анна Политковская' })], {
    location: { country: 'RU', city: 'Moscow' },
  }),
  // Protected: neither its name nor any skeleton of it is searchable.
  hidden: body([victim('Hamza al-Khatib', { protected: true })], { title: 'Activist killed', location: { country: 'SY' } }),
};

beforeAll(async () => {
  const writer = await serviceWriter(t.app.db, t.actors.ownOrganisation.id);
  for (const [key, fixture] of Object.entries(FIXTURES)) records.set(key, await writer.create(fixture, { key, publish: true }));
}, 60_000);

const ids = (...keys: string[]) => keys.map((key) => records.get(key)!.id).sort();
const search = async (q: string, extra: Record<string, string> = {}) => (await listAllIds(t.app, { q, ...extra })).sort();

describe('search (q)', () => {
  it.each([
    ['Naji Jarf', ['jerf']],
    ['Naji Jerf', ['jerf']],
    ['Jarf Naji', ['jerf']],
    ['ناجي الجرف', ['jerf']],
    ['الجرف', ['jerf']],
    ['Naji', ['jerf', 'hamdan']],
    ['Naji Hamdan', ['hamdan']],
    ['Faris Hammadi', ['hamadi']],
    ['Fares Hamady', ['hamadi']],
    ['فارس', ['hamadi']],
    ['Politkovskaia', ['politkovskaya']],
    ['Анна Политковская', ['politkovskaya']],
    ['Anna Politkovskaia', ['politkovskaya']],
  ])('"%s" finds %j', async (q, keys) => {
    expect(await search(q)).toEqual(ids(...keys));
  });

  it("finds nothing by a protected victim's name, in any spelling", async () => {
    for (const q of ['Hamza al-Khatib', 'Hamzah Khateeb', 'حمزة الخطيب']) expect(await search(q), q).toEqual([]);
    expect(await search('Activist killed')).toEqual(ids('hidden'));
  });

  it('ranks the person searched for first with sort=relevance', async () => {
    const ranked = await listAllIds(t.app, { q: 'Naji', sort: 'relevance', country: 'TR' });
    expect(new Set(ranked)).toEqual(new Set(ids('jerf', 'hamdan')));
    const best = await listAllIds(t.app, { q: 'ناجي الجرف', sort: 'relevance' });
    expect(best).toEqual(ids('jerf'));
  });
});

interface Pair {
  a: string;
  b: string;
  kind: string;
  knownLimitation?: { search?: string; duplicates?: string };
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/name-variants.json', import.meta.url), 'utf8')) as {
  positives: Pair[];
  negatives: Pair[];
};
/** Two positives of every kind (the whole list is in name-variants.test.ts and the bench), and every negative. */
const positives = fixture.positives.filter(
  (pair, index, all) => !pair.knownLimitation?.duplicates && all.filter((other) => other.kind === pair.kind).indexOf(pair) < 2,
);
const negatives = fixture.negatives.filter((pair) => !pair.knownLimitation?.duplicates);

describe('duplicate flagging on create', () => {
  const createOn = async (name: string, index: number) => {
    // Each pair its own year and city, the same day, country and attack type: only the name decides.
    const response = await request(t.app, 'POST', '/v1/incidents', {
      key: t.actors.editor,
      body: incidentBody({
        victims: [victim(name)],
        perpetratorClaims: [],
        sources: [],
        attackTypes: ['killing'],
        date: { precision: 'day', value: `${1950 + index}-06-01` },
        location: { country: 'LB', city: `Town ${index}` },
      }),
    });
    expect(response.status, response.text).toBe(201);
    return response.body;
  };

  it(`flags every spelling and script of one name (${positives.length} pairs), and none of ${negatives.length} pairs of different people`, async () => {
    const outcomes: string[] = [];
    for (const [index, pair] of [...positives, ...negatives].entries()) {
      const first = await createOn(pair.a, index);
      const second = await createOn(pair.b, index);
      const flagged = second.possibleDuplicates.some((candidate: { id: string }) => candidate.id === first.id);
      if (flagged !== positives.includes(pair)) outcomes.push(`${pair.a} / ${pair.b}: ${flagged ? 'flagged' : 'not flagged'}`);
    }
    expect(outcomes).toEqual([]);
  }, 120_000);

  it('an import leaves out a row naming a stored victim in another script (score 1)', async () => {
    const key = (await findActiveKeyByToken(t.app.db, t.actors.editor))!;
    const actor: KeyActor = { kind: 'key', keyId: key.id, organisationId: t.actors.ownOrganisation.id, role: 'editor' };
    const row = createIncidentSchema.parse(body([victim('ناجي الجرف')]));
    const [found] = await inTransaction(t.app.db, (trx) => findStoredDuplicates(trx, actor, [row]));
    expect(found).toEqual([expect.objectContaining({ id: records.get('jerf')!.id, score: 1 })]);
    const other = createIncidentSchema.parse(body([victim('ناجي حمدان')], { date: { precision: 'month', value: '2015-12' } }));
    const [none] = await inTransaction(t.app.db, (trx) => findStoredDuplicates(trx, actor, [other]));
    expect(none!.filter((candidate) => candidate.id === records.get('jerf')!.id)).toEqual([]);
  });
});
