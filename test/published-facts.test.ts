import { describe, expect, it } from 'vitest';
import { getDataVersion } from '../src/db/data-version.ts';
import { detailedStatistics } from '../src/statistics/statistics.queries.ts';
import { publishedFactsOf } from '../src/statistics/published-facts.ts';
import { statisticsQuerySchema } from '../src/statistics/statistics.schemas.ts';
import { randomIncidentBody, seededRandom, serviceWriter } from './support/factories.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * The public statistics from the published facts in memory (STATISTICS_IN_MEMORY, on by default
 * outside the tests), over HTTP: the same answers as the incidents give, and never an answer
 * from columns of an older data version. test/statistics-paths.test.ts compares the answers
 * question by question.
 */
const t = useTestApp({ STATISTICS_IN_MEMORY: 'true' });

const fromIncidents = (query: string) => {
  const { groupBy, includeDebunked, ...filters } = statisticsQuerySchema.parse(Object.fromEntries(new URLSearchParams(query)));
  return detailedStatistics(t.app.db, { kind: 'public' }, { groupBy, filters, includeDebunked }, 'incidents');
};

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
  });
});
