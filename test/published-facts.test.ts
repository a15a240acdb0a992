import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Actor } from '../src/auth/actor.ts';
import { getDataVersion } from '../src/db/data-version.ts';
import { storeDraftSharing } from '../src/organisations/draft-sharing.queries.ts';
import { seedSampleData } from '../src/sample-data/seed.ts';
import { detailedStatistics } from '../src/statistics/statistics.queries.ts';
import { publishedFactsOf } from '../src/statistics/published-facts.ts';
import { DIMENSIONS, statisticsQuerySchema } from '../src/statistics/statistics.schemas.ts';
import type { GroupRow } from '../src/statistics/statistics.types.ts';
import { randomIncidentBody, seededRandom, serviceWriter, type ModelIncident } from './support/factories.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * The public statistics from the published facts in memory (STATISTICS_IN_MEMORY, on by default
 * outside the tests), over HTTP: the same answers as the incidents give, and never an answer
 * from columns of an older data version. test/statistics-paths.test.ts compares the answers
 * question by question.
 */
const t = useTestApp({ STATISTICS_IN_MEMORY: 'true' });

const parse = (query: string) => {
  const { groupBy, includeDebunked, ...filters } = statisticsQuerySchema.parse(Object.fromEntries(new URLSearchParams(query)));
  return { groupBy, filters, includeDebunked };
};
const fromIncidents = (query: string, actor: Actor = { kind: 'public' }) => detailedStatistics(t.app.db, actor, parse(query), 'incidents');

async function untilLoaded(): Promise<void> {
  const facts = publishedFactsOf(t.app.db)!;
  const { dataVersion } = await getDataVersion(t.app.db);
  for (let attempt = 0; attempt < 200 && facts.dataVersion !== dataVersion; attempt++) {
    await request(t.app, 'GET', `/v1/stats?dateFrom=${1800 + attempt}`); // a new question (not cached), so a load starts
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(facts.dataVersion).toBe(dataVersion);
}

describe('public statistics from the published facts in memory', () => {
  it('answer as the incidents do, and follow a write at once', async () => {
    const writer = await serviceWriter(t.app.db, t.actors.ownOrganisation.id);
    const random = seededRandom(18);
    for (let index = 0; index < 30; index++) {
      await writer.create(randomIncidentBody(random, index), {
        publish: random.chance(0.7),
        verification: random.pick(['unverified', 'verified', 'debunked']),
      });
    }
    await untilLoaded();
    for (const query of ['groupBy=country', 'groupBy=year,attackType&dateFrom=2012', 'groupBy=actorType&attackType=killing', '']) {
      const answer = await request(t.app, 'GET', `/v1/stats?${query}`);
      expect(answer.status).toBe(200);
      const expected = await fromIncidents(query);
      expect(answer.body.totals, query).toEqual(expected.totals);
      const counted = (groups: { incidents: number }[]) => groups.filter((group) => group.incidents > 0).length;
      expect(counted(answer.body.groups), query).toBe(counted(expected.groups));
    }

    // A write makes the columns old: the next answer comes from SQL and already counts it.
    const before = await request(t.app, 'GET', '/v1/stats?groupBy=country&country=IS');
    await writer.create(randomIncidentBody(random, 99, { location: { country: 'IS' } }), { publish: true, verification: 'verified' });
    const after = await request(t.app, 'GET', '/v1/stats?groupBy=country&country=IS');
    expect(after.body.totals.incidents).toBe(before.body.totals.incidents + 1);
    await untilLoaded();
    const loaded = await request(t.app, 'GET', '/v1/stats?groupBy=country&country=IS&dateFrom=1900');
    expect(loaded.body.totals).toEqual(after.body.totals);
  }, 120_000);
});

/** Every dimension and every pair, each unfiltered and with a victim, claim or incident filter in turn. */
const PAIRS = [
  ...DIMENSIONS,
  ...DIMENSIONS.flatMap((first, index) => DIMENSIONS.slice(index + 1).map((second) => `${first},${second}`)).filter(
    (pair) => pair !== 'year,month',
  ),
];
const TURNS = [
  'victimRole=journalist,activist',
  'victimGender=female&victimOutcome=killed,threatened',
  'actorType=unknown,police',
  'attribution=suspected_by_documenter&country=TR,SY',
  'attackType=killing&includeDebunked=true',
];
const QUESTIONS = PAIRS.flatMap((groupBy, index) => [`groupBy=${groupBy}`, `groupBy=${groupBy}&${TURNS[index % TURNS.length]}`]);

/** The groups as the SQL path returns them: the HTTP answer adds empty years and months, and country names. */
const counted = (groupBy: string[], groups: GroupRow[]) =>
  groups
    .filter((group) => group.incidents > 0)
    .map((group) => ({
      ...Object.fromEntries(groupBy.map((name) => [name, group[name as keyof GroupRow]])),
      incidents: group.incidents,
      victims: group.victims,
      victimsKilled: group.victimsKilled,
    }));

describe('statistics for every caller from the facts in memory', () => {
  it('answer every dimension and pair as the incidents do, on the sample data and after random writes', async () => {
    const db = t.app.db;
    const own = t.actors.ownOrganisation.id;
    await seedSampleData(db);
    // Our drafts are shared with the other organisation, whose researcher asks below.
    await storeDraftSharing(db, own, 'organisations', [t.actors.otherOrganisation.id]);
    const readers: Array<[string, Actor, string | undefined]> = [
      ['public', { kind: 'public' }, undefined],
      [
        'researcher',
        { kind: 'key', keyId: randomUUID(), organisationId: t.actors.otherOrganisation.id, role: 'researcher' },
        t.actors.researcher,
      ],
      ['editor', { kind: 'key', keyId: randomUUID(), organisationId: own, role: 'editor' }, t.actors.editor],
    ];
    const compareAll = async (stage: string) => {
      await untilLoaded();
      const facts = publishedFactsOf(db)!;
      for (const query of QUESTIONS) {
        for (const [reader, actor, key] of readers) {
          const expected = await fromIncidents(query, actor);
          expect(await facts.answer(parse(query), actor, facts.dataVersion), `${stage}, ${reader}: ${query}`).toEqual(expected);
          const answer = await request(t.app, 'GET', `/v1/stats?${query}`, { key });
          expect(answer.status).toBe(200);
          expect(answer.body.totals, `${stage}, ${reader} over HTTP: ${query}`).toEqual(expected.totals);
          const { groupBy } = parse(query);
          expect(counted(groupBy, answer.body.groups), `${stage}, ${reader} over HTTP: ${query}`).toEqual(
            counted(groupBy, expected.groups),
          );
        }
      }
    };
    await compareAll('sample data');

    const writers = [await serviceWriter(db, own), await serviceWriter(db, t.actors.otherOrganisation.id)];
    const random = seededRandom(1818);
    const records: ModelIncident[] = [];
    for (let index = 0; index < 40; index++) {
      records.push(
        await random.pick(writers).create(randomIncidentBody(random, index), {
          publish: random.chance(0.6),
          verification: random.pick(['unverified', 'verified', 'disputed', 'debunked']),
        }),
      );
    }
    await compareAll('random incidents');

    // Writes to victims and claims alone, a deletion and a merge: the columns follow each data version.
    const ids = (from: number, to: number) => records.slice(from, to).map((record) => record.id);
    await sql`update victims set outcome = 'killed', gender = 'female' where incident_id = any(${ids(0, 8)}::uuid[])`.execute(db);
    await sql`update victims set gender = 'non_binary' where incident_id = any(${ids(8, 16)}::uuid[]) and protected`.execute(db);
    await sql`update perpetrator_claims set actor_type = 'police', attribution = 'alleged_by_victim'
      where incident_id = any(${ids(12, 20)}::uuid[])`.execute(db);
    await sql`delete from perpetrator_claims where incident_id = any(${ids(20, 24)}::uuid[])`.execute(db);
    await sql`delete from victims where incident_id = any(${ids(24, 27)}::uuid[])`.execute(db);
    const ours = records.filter((record) => record.organisationId === own);
    await writers[0]!.remove(ours[0]!);
    await writers[0]!.merge(ours[1]!, ours[2]!);
    await compareAll('after edits');
  }, 600_000);
});
