import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/auth/actor.ts';
import { insertApiKey } from '../src/auth/api-key.queries.ts';
import { mergeIncident } from '../src/duplicates/merge.service.ts';
import { updateIncidentSchema } from '../src/incidents/incident.schemas.ts';
import { updateIncident } from '../src/incidents/incident.service.ts';
import { compileFilters } from '../src/incidents/incident-filters.ts';
import { factsCanAnswer as factsCanAnswerCompiled, statisticsFromFacts } from '../src/statistics/statistics-facts.queries.ts';
import type { StatisticsOptions } from '../src/statistics/statistics.types.ts';
import { PublishedFacts } from '../src/statistics/published-facts.ts';

/** Which filters the facts hold does not depend on who asks. */
const compiledFor = (question: StatisticsOptions) => compileFilters(question.filters, { kind: 'public' });
const factsCanAnswer = (question: StatisticsOptions) => factsCanAnswerCompiled(question, compiledFor(question));
import { detailedStatistics } from '../src/statistics/statistics.queries.ts';
import { statisticsQuerySchema } from '../src/statistics/statistics.schemas.ts';
import { randomIncidentBody, seededRandom, serviceWriter, type ModelIncident } from './support/factories.ts';
import { useTestApp } from './support/test-app.ts';

/**
 * The statistics have three paths: the narrow facts grouped (kept by triggers, migration 0006),
 * the facts with victims and claims joined, and the incidents themselves. Every question a
 * faster path can answer must get the same answer from the incidents, for every reader, after
 * every kind of write the facts must follow.
 */

const t = useTestApp();
const records: ModelIncident[] = [];

/** The dimensions the facts hold (actor type and attribution as masks of the incident's claims, migration 0014). */
const INCIDENT_DIMENSIONS = [
  'year',
  'month',
  'country',
  'attackType',
  'verificationStatus',
  'motive',
  'judicialOutcome',
  'deathType',
  'actorType',
  'attribution',
];
const GROUPINGS = [
  '',
  ...INCIDENT_DIMENSIONS,
  ...INCIDENT_DIMENSIONS.flatMap((first, index) => INCIDENT_DIMENSIONS.slice(index + 1).map((second) => `${first},${second}`)).filter(
    (pair) => pair !== 'year,month' && pair !== 'actorType,attribution',
  ),
];
const FILTERS = [
  'country=TR,SY',
  'attackType=killing,abduction',
  'verificationStatus=verified,disputed',
  'motive=work_related_confirmed',
  'judicialOutcome=no_investigation,unknown',
  'deathType=murder,unclassified',
  'includeDebunked=true',
  'dateFrom=2012&dateTo=2019',
  'dateFrom=2014-06-15&dateTo=2018-02',
  'dateFrom=2012-03&dateTo=2020&dateMatch=within',
  'attackType=killing&country=TR,SY,IQ&includeDebunked=true&dateFrom=2011',
  'organisation=OWN',
  'verificationStatus=debunked',
];

const readers = (): Array<[string, Actor]> => [
  ['public', { kind: 'public' }],
  ['researcher', { kind: 'key', keyId: randomUUID(), organisationId: t.actors.otherOrganisation.id, role: 'researcher' }],
  ['editor', { kind: 'key', keyId: randomUUID(), organisationId: t.actors.ownOrganisation.id, role: 'editor' }],
  ['other reviewer', { kind: 'key', keyId: randomUUID(), organisationId: t.actors.otherOrganisation.id, role: 'reviewer' }],
];

const options = (query: string) => {
  const { groupBy, includeDebunked, ...filters } = statisticsQuerySchema.parse(
    Object.fromEntries(new URLSearchParams(query.includes('OWN') ? query.replace('OWN', t.actors.ownOrganisation.id) : query)),
  );
  return { groupBy, filters, includeDebunked };
};

beforeAll(async () => {
  const own = await serviceWriter(t.app.db, t.actors.ownOrganisation.id);
  const other = await serviceWriter(t.app.db, t.actors.otherOrganisation.id);
  const random = seededRandom(2026);
  for (let index = 0; index < 60; index++) {
    records.push(
      await (random.chance(0.6) ? own : other).create(randomIncidentBody(random, index), {
        publish: random.chance(0.75),
        verification: random.pick(['unverified', 'verified', 'verified', 'disputed', 'debunked']),
      }),
    );
  }
  // Every kind of write the facts must follow: edits of dates, places, types and victims,
  // deletion, a merge, and multi-row statements that touch several incidents at once.
  const context = async (role: 'editor' | 'reviewer') => {
    const { id } = await insertApiKey(t.app.db, { organisationId: t.actors.ownOrganisation.id, name: `paths ${role}`, role });
    return { actor: { kind: 'key', keyId: id, organisationId: t.actors.ownOrganisation.id, role }, requestId: randomUUID() } as const;
  };
  const editor = await context('editor');
  const reviewer = await context('reviewer');
  const ours = records.filter((record) => record.organisationId === t.actors.ownOrganisation.id);
  for (const [index, record] of ours.slice(0, 6).entries()) {
    const change = [
      { date: { precision: 'month', value: '2016-02' } },
      { location: { country: 'NO' } },
      { attackTypes: ['other', 'killing'] },
      { victims: [] },
      { victims: [{ name: 'Added', outcome: 'killed', role: 'journalist' }] },
      { motive: null, judicialOutcome: 'full_justice' },
    ][index];
    await updateIncident(t.app.db, editor, record.id, updateIncidentSchema.parse({ ...change, version: record.version }), record.version);
  }
  await own.remove(ours[6]!);
  await mergeIncident(t.app.db, reviewer, ours[7]!.id, { into: ours[8]!.id }, undefined);
  const some = records.slice(20, 30).map((record) => record.id);
  await sql`update victims set outcome = 'killed' where incident_id = any(${some}::uuid[])`.execute(t.app.db);
  await sql`update victims set incident_id = ${records[31]!.id} where incident_id = ${records[32]!.id}`.execute(t.app.db);
  await sql`delete from victims where incident_id = any(${records.slice(33, 36).map((record) => record.id)}::uuid[])`.execute(t.app.db);
}, 120_000);

describe('the facts', () => {
  it('match their definition (the view incident_fact_rows) after every kind of write', async () => {
    const difference = await sql<Record<string, unknown>>`
      (select * from incident_facts except select * from incident_fact_rows)
      union all (select * from incident_fact_rows except select * from incident_facts)`.execute(t.app.db);
    expect(difference.rows).toEqual([]);
    const facts = await sql<{ count: number }>`select count(*)::int as count from incident_facts`.execute(t.app.db);
    expect(facts.rows[0]!.count).toBe(records.length - 2); // one deleted, one merged
  });

  it("and the CSV export's incident lists (migration 0008) match theirs (incident_list_rows) too", async () => {
    // An incident without children may have no row: it then reads as the defaults (0 and '').
    const difference = await sql<Record<string, unknown>>`
      (select * from incident_lists except select * from incident_list_rows)
      union all (select r.* from incident_list_rows r join incident_lists l using (incident_id) except select * from incident_lists)
      union all (select r.* from incident_list_rows r where not exists (select 1 from incident_lists l where l.incident_id = r.incident_id)
        and (r.victim_count <> 0 or r.perpetrators <> '' or r.source_kinds <> ''))`.execute(t.app.db);
    expect(difference.rows).toEqual([]);
    const moved = await sql<{
      victim_count: number;
    }>`select victim_count from incident_lists where incident_id = ${records[31]!.id}`.execute(t.app.db);
    expect(moved.rows[0]!.victim_count).toBeGreaterThan(0);
  });

  it.each([
    ['groupBy=victimRole', false],
    ['groupBy=actorType', true],
    ['groupBy=country,attribution', true],
    ['groupBy=actorType,attribution', false],
    ['actorType=police&groupBy=actorType', false],
    ['victimOutcome=killed', false],
    ['q=incident', false],
    ['city=Mosul', false],
    ['groupBy=year,attackType&dateFrom=1900-01-01', true],
    ['groupBy=month&organisation=OWN', true],
  ])('answer "%s": %s', (query, expected) => {
    expect(factsCanAnswer(options(query))).toBe(expected);
  });
});

describe('every path gives the answer the incidents give', () => {
  const incidentLevel = [
    ...GROUPINGS.map((groupBy) => (groupBy ? `groupBy=${groupBy}` : '')),
    ...FILTERS.flatMap((filter, index) =>
      GROUPINGS.filter((_, grouping) => grouping % FILTERS.length === index || grouping < 4).map((groupBy) =>
        [filter, groupBy && `groupBy=${groupBy}`].filter(Boolean).join('&'),
      ),
    ),
  ];
  // The published facts in memory (src/statistics/published-facts.ts), loaded once all writes are done.
  let inMemory: PublishedFacts;
  beforeAll(async () => {
    inMemory = new PublishedFacts(t.app.db);
    await inMemory.load();
  });

  it.each(incidentLevel)('"%s"', async (query) => {
    const question = options(query);
    expect(factsCanAnswer(question)).toBe(true);
    expect(await inMemory.answer(question), 'public, published facts in memory').toEqual(
      await detailedStatistics(t.app.db, { kind: 'public' }, question, 'incidents'),
    );
    for (const [reader, actor] of readers()) {
      const [grouped, joined, incidents] = await Promise.all([
        statisticsFromFacts(t.app.db, actor, question),
        detailedStatistics(t.app.db, actor, question, 'facts'),
        detailedStatistics(t.app.db, actor, question, 'incidents'),
      ]);
      expect(grouped, `${reader}, grouped facts`).toEqual(incidents);
      expect(joined, `${reader}, joined facts`).toEqual(incidents);
    }
  });

  const CHILD_FILTERS = [
    '',
    'victimRole=journalist,activist',
    'victimOutcome=killed',
    'victimGender=female,non_binary',
    'victimRole=journalist&victimOutcome=killed,injured',
    'actorType=police,unknown',
    'attribution=alleged_by_victim',
    'actorName=police',
    'victimGender=female&country=TR,SY,IQ&attackType=killing',
  ];
  const CHILD_GROUPINGS = [
    '',
    'victimRole',
    'gender',
    'actorType',
    'attribution',
    'victimRole,gender',
    'attackType,gender',
    'actorType,attribution',
    'year,victimRole',
    'country,actorType',
    'month',
    'attackType',
  ];
  const withChildren = CHILD_FILTERS.flatMap((filter, index) =>
    CHILD_GROUPINGS.filter((_, grouping) => grouping % 3 === index % 3 || grouping < 3).map((groupBy) =>
      [filter, groupBy && `groupBy=${groupBy}`].filter(Boolean).join('&'),
    ),
  ).filter((query) => query && !factsCanAnswer(options(query)));
  it.each(withChildren)('"%s"', async (query) => {
    const question = options(query);
    expect(compiledFor(question).factsHold).toBe(true);
    for (const [reader, actor] of readers()) {
      const [joined, incidents] = await Promise.all([
        detailedStatistics(t.app.db, actor, question, 'facts'),
        detailedStatistics(t.app.db, actor, question, 'incidents'),
      ]);
      expect(joined, reader).toEqual(incidents);
    }
  });
});
