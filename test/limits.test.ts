import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { incidentBody } from './support/factories.ts';
import { expectCleanAnswer } from './support/fuzz-checks.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * Expensive requests are bounded: page sizes, list lengths, search length and statistics
 * dimensions have caps, and on PostgreSQL a statement that runs past STATEMENT_TIMEOUT_MS is
 * cancelled with a clear 503 instead of holding a pooled connection.
 */
describe('caps on what one request may ask for', () => {
  const t = useTestApp();

  const list = (items: number, item: (index: number) => string) => Array.from({ length: items }, (_, index) => item(index)).join(',');

  it.each([
    ['a page over 200', '/v1/incidents?limit=201', 'limit'],
    ['a page of a million', '/v1/incidents?limit=1000000', 'limit'],
    ['over 100 duplicate candidates', `/v1/incidents/${crypto.randomUUID()}/duplicates?limit=101`, 'limit'],
    ['a search over 200 characters', `/v1/incidents?q=${'a'.repeat(201)}`, 'q'],
    ['an actor name over 200 characters', `/v1/incidents?actorName=${'a'.repeat(201)}`, 'actorName'],
    ['a cursor over 500 characters', `/v1/incidents?cursor=${'a'.repeat(501)}`, 'cursor'],
    ['51 countries', `/v1/incidents?country=${list(51, () => 'TR')}`, 'country'],
    ['51 organisations', `/v1/incidents?organisation=${list(51, () => crypto.randomUUID())}`, 'organisation'],
    ['a region over 200 characters', `/v1/incidents?region=${'r'.repeat(201)}`, 'region'],
    ['three statistics dimensions', '/v1/stats?groupBy=year,country,attackType', 'groupBy'],
    ['a thousand statistics dimensions', `/v1/stats?groupBy=${list(1000, () => 'country')}`, 'groupBy'],
    ['an export filter with 51 values', `/v1/incidents/export?attackType=${list(51, () => 'killing')}`, 'attackType'],
  ])('%s: 400 naming the parameter', async (_name, path, parameter) => {
    const response = await request(t.app, 'GET', path, { key: t.actors.editor });
    expectCleanAnswer(response, path);
    expect(response.status, response.text).toBe(400);
    const named: string[] = response.body.errors.map((error: { parameter: string }) => error.parameter);
    expect(
      named.some((name) => name === parameter || name.startsWith(`${parameter}.`)),
      named.join(),
    ).toBe(true);
  });

  it('the largest page, search and list still answer', async () => {
    for (const path of [
      '/v1/incidents?limit=200',
      `/v1/incidents?q=${Array.from({ length: 66 }, () => 'ab').join('+')}`,
      `/v1/incidents?country=${list(50, () => 'TR')}&includeTotal=true`,
      '/v1/stats?groupBy=month,country',
    ]) {
      const response = await request(t.app, 'GET', path, { key: t.actors.editor });
      expect(response.status, `${path}: ${response.text}`).toBe(200);
    }
  });

  it('more victims, claims or sources than allowed: 400', async () => {
    const body = incidentBody({ victims: Array.from({ length: 201 }, (_, index) => ({ name: `Victim ${index}` })) });
    const response = await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((error: { pointer: string }) => error.pointer)).toEqual(['/victims']);
  });
});

describe.skipIf(!process.env.DATABASE_URL)('statement timeout (PostgreSQL; PGlite has none)', () => {
  const ROWS = 50_000;
  const t = useTestApp({ STATEMENT_TIMEOUT_MS: '100' });
  let known: string;

  beforeAll(async () => {
    const created = await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body: incidentBody() });
    known = created.body.id;
    // Enough rows that ranking them all by relevance takes far longer than 100 ms (measured: 1.3 s
    // for 30,000 rows on 2 busy cores). The insert runs without the timeout: it is setup, not a request.
    await t.app.db.transaction().execute(async (trx) => {
      await sql`set local statement_timeout = 0`.execute(trx);
      await sql`
        insert into incidents (organisation_id, title, date_start, date_end, date_precision, country, attack_types, search_text)
        select ${t.actors.ownOrganisation.id}, 'Bulk incident ' || n, date '2020-01-01', date '2020-01-01', 'day', 'TR',
               array['killing'], 'bulk incident ' || md5(n::text) || ' ' || md5((n * 7)::text)
        from generate_series(1, ${ROWS}) as n`.execute(trx);
      await sql`analyze incidents`.execute(trx);
    });
  }, 120_000);

  it('a query that runs too long answers 503 query-timeout, and the pool keeps serving', async () => {
    const slow = await request(t.app, 'GET', '/v1/incidents?q=bulk+incident&sort=relevance&includeTotal=true', { key: t.actors.editor });
    expect(slow.status, slow.text).toBe(503);
    expect(slow.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(slow.body.type).toBe('/problems/query-timeout');
    expect(slow.headers.get('retry-after')).toBe('5');

    // Several slow requests at once (more than the pool's 5 connections), then normal ones.
    const burst = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        request(t.app, 'GET', `/v1/incidents?q=bulk+incident+${index}&sort=relevance`, { key: t.actors.editor }),
      ),
    );
    for (const response of burst) expect(response.status, response.text).toBe(503);
    const normal = await Promise.all(
      Array.from({ length: 8 }, () => request(t.app, 'GET', `/v1/incidents/${known}`, { key: t.actors.editor })),
    );
    for (const response of normal) expect(response.status, response.text).toBe(200);
    expect((await request(t.app, 'GET', '/readyz')).status).toBe(200);
  });
});
