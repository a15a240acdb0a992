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
import { DIMENSIONS, statisticsQuerySchema } from '../src/statistics/statistics.schemas.ts';
import { storeDraftSharing } from '../src/organisations/draft-sharing.queries.ts';
import { createOrganisation, randomIncidentBody, seededRandom, serviceWriter, type ModelIncident } from './support/factories.ts';
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
  await shareAndRestrict();
}, 120_000);

/**
 * Who sees what (migration 0017), for the readers beyond readers(): our organisation shares its
 * drafts with the other one (whose researcher is in readers()), not with a third; two access
 * groups of ours restrict an incident and a protected victim each, and one editor key is in the
 * first group only.
 */
const accessReaders: Array<[string, Actor]> = [];
async function shareAndRestrict(): Promise<void> {
  const db = t.app.db;
  const own = t.actors.ownOrganisation.id;
  await storeDraftSharing(db, own, 'organisations', [t.actors.otherOrganisation.id]);
  const third = await createOrganisation(db);
  const groups = await sql<{ id: string }>`insert into access_groups (organisation_id, name)
    values (${own}, 'paths first'), (${own}, 'paths second') returning id`.execute(db);
  const [first, second] = groups.rows.map((row) => row.id);
  const member = await insertApiKey(db, { organisationId: own, name: 'paths group member', role: 'editor' });
  await sql`insert into access_group_members (group_id, key_id) values (${first}, ${member.id})`.execute(db);
  // Protected victims with a gender, in two different live incidents of ours.
  const { rows: guarded } = await sql<{ id: string; incident_id: string }>`select distinct on (v.incident_id) v.id, v.incident_id
    from victims v join incident_facts f on f.incident_id = v.incident_id
    where f.organisation_id = ${own} and v.protected and v.gender is not null order by v.incident_id, v.id limit 2`.execute(db);
  expect(guarded).toHaveLength(2);
  await sql`insert into incident_access_groups (incident_id, group_id) values (${guarded[0]!.incident_id}, ${first})`.execute(db);
  await sql`insert into victim_access_groups (victim_id, incident_id, group_id)
    values (${guarded[1]!.id}, ${guarded[1]!.incident_id}, ${second})`.execute(db);
  const ownResearcher = await insertApiKey(db, { organisationId: own, name: 'paths own researcher', role: 'researcher' });
  const admin = await insertApiKey(db, { organisationId: own, name: 'paths admin', role: 'admin' });
  accessReaders.push(
    ['editor in the first access group', { kind: 'key', keyId: member.id, organisationId: own, role: 'editor' }],
    ['researcher of the owner', { kind: 'key', keyId: ownResearcher.id, organisationId: own, role: 'researcher' }],
    ['researcher of an organisation not shared with', { kind: 'key', keyId: randomUUID(), organisationId: third.id, role: 'researcher' }],
    ['admin', { kind: 'key', keyId: admin.id, organisationId: own, role: 'admin' }],
  );
}

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
  // Every dimension and every pair of dimensions, each with no filter and two others (incident,
  // victim and claim filters in turn), for every kind of reader: the facts in memory answer as the incidents do.
  const HELD_FILTERS = [...FILTERS, ...CHILD_FILTERS.filter((filter) => filter && !filter.includes('actorName'))];
  const ALL_GROUPINGS = [
    '',
    ...DIMENSIONS,
    ...DIMENSIONS.flatMap((first, index) => DIMENSIONS.slice(index + 1).map((second) => `${first},${second}`)).filter(
      (pair) => pair !== 'year,month',
    ),
  ];
  const inMemoryQuestions = ALL_GROUPINGS.flatMap((groupBy, index) =>
    ['', HELD_FILTERS[index % HELD_FILTERS.length]!, HELD_FILTERS[(index * 7 + 3) % HELD_FILTERS.length]!].map((filter) =>
      [filter, groupBy && `groupBy=${groupBy}`].filter(Boolean).join('&'),
    ),
  );
  it.each(inMemoryQuestions)('in memory, "%s"', async (query) => {
    const question = options(query);
    for (const [reader, actor] of [...readers(), ...accessReaders]) {
      const [fromMemory, incidents] = await Promise.all([
        inMemory.answer(question, actor),
        detailedStatistics(t.app.db, actor, question, 'incidents'),
      ]);
      expect(fromMemory, reader).toEqual(incidents);
    }
  });

  it('in memory, what access groups guard is known to their members only', async () => {
    const question = options('groupBy=gender&includeDebunked=true');
    const editor = (keyId: string): Actor => ({ kind: 'key', keyId, organisationId: t.actors.ownOrganisation.id, role: 'editor' });
    const member = accessReaders[0]![1];
    const [inGroup, outside] = await Promise.all([inMemory.answer(question, member), inMemory.answer(question, editor(randomUUID()))]);
    // The member knows the genders in the incident of the first group; both are blind to the victim of the second.
    const known = (answer: typeof inGroup) =>
      answer!.groups.filter((group) => group.gender !== null).reduce((sum, group) => sum + group.victims, 0);
    expect(known(inGroup)).toBeGreaterThan(known(outside));
    expect(inGroup).toEqual(await detailedStatistics(t.app.db, member, question, 'incidents'));
  });

  it('in memory, not what only the incidents hold (search, place, actor names)', async () => {
    for (const query of ['q=incident&groupBy=gender', 'city=Mosul', 'actorName=police&groupBy=actorType', 'hasProtectedVictims=true']) {
      expect(await inMemory.answer(options(query), readers()[2]![1]), query).toBeUndefined();
    }
  });

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
