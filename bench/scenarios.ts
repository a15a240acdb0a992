import type { CompiledQuery } from 'kysely';
import { PUBLIC_ACTOR, type Actor } from '../src/auth/actor.ts';
import { insertApiKey } from '../src/auth/api-key.queries.ts';
import { getDataVersion } from '../src/db/data-version.ts';
import { latestPublicIncidents, latestTombstones } from '../src/feeds/feed.queries.ts';
import { feedQuerySchema } from '../src/feeds/feed.schemas.ts';
import { listIncidentDocumentPage, listIncidentPage } from '../src/incidents/incident-list.queries.ts';
import { findIncidentDocument } from '../src/incidents/incident-documents.ts';
import { directusIncidents } from './peer.ts';
import { findIncidentTree } from '../src/incidents/incident.queries.ts';
import type { Db } from '../src/db/create-db.ts';
import type { Dimension } from '../src/statistics/statistics.schemas.ts';
import { sql } from 'kysely';
import { listIncidentsQuerySchema } from '../src/incidents/incident.schemas.ts';
import { statistics } from '../src/statistics/statistics.queries.ts';
import { statisticsQuerySchema } from '../src/statistics/statistics.schemas.ts';
import { SEARCH_NAME } from './dictionary.ts';
import { captureQueries } from './floor.ts';

/**
 * The request-per-request scenarios (the export is measured on its own, see export.ts). Each
 * names its URL(s), how many connections load it, and the SQL its handler sends (its floor):
 * captured from the handler's own query functions with the same parsed parameters.
 */
export interface Scenario {
  id: string;
  name: string;
  /** One URL, or several that autocannon cycles through (to defeat any response cache); or read from the dataset. */
  paths: string[] | ((db: Db) => Promise<string[]>);
  connections: number;
  /** Extra request headers, resolved against the running server (the ETag for a 304) or the dataset (a key). */
  headers?: (baseUrl: string, db: Db) => Promise<Record<string, string>>;
  expectStatus: number;
  queries: () => Promise<CompiledQuery[]>;
  targets: Array<{
    label: string;
    met: (result: { p50: number; ratio: number; perSecond: number; timesPeer?: number | undefined }) => boolean;
  }>;
  /** Load it through nginx with deploy/nginx/dateline.conf (scripts/nginx/nginx-proxy.ts); `--only proxy` runs these. */
  via?: 'proxy';
  /** The same question asked of the peer (bench/peer.ts, `--peer`), a path per path of this scenario. */
  peer?: (paths: string[]) => string[];
}

/** Every request asks for JSON: the ETag depends on Accept, so the 304 run must send the same one. */
export const JSON_HEADERS = { accept: 'application/json' };

const query = (path: string) => Object.fromEntries(new URL(path, 'http://x').searchParams);

/**
 * What GET /v1/incidents sends: the data version, then one page (keyset, -date by default) of
 * stored documents (src/incidents/incident-documents.ts; a second query only for stale ones).
 */
function listQueries(path: string, actor: Actor | (() => Promise<Actor>) = PUBLIC_ACTOR) {
  const { sort, limit, cursor: _cursor, includeTotal: _total, ...filters } = listIncidentsQuerySchema.parse(query(path));
  return captureQueries(getDataVersion, async (db) =>
    listIncidentDocumentPage(db, typeof actor === 'function' ? await actor() : actor, { filters, sort, limit }),
  );
}

/** What GET /v1/stats sends: the data version, the grouped counts, the totals. */
function statisticsQueries(path: string) {
  const { groupBy, includeDebunked, ...filters } = statisticsQuerySchema.parse(query(path));
  return captureQueries(getDataVersion, (db) => statistics(db, PUBLIC_ACTOR, { groupBy, filters, includeDebunked }));
}

/**
 * What a site page reads, as the anonymous API would answer it: the explore page is a list page
 * and its total (the statistics' total; the country list comes from the statistics cache); the statistics page is the
 * time series, the bars by country, attack type and perpetrator type, and the cross-tab.
 */
function explorePageQueries(path: string) {
  const {
    sort,
    limit,
    cursor: _cursor,
    includeTotal: _total,
    ...filters
  } = listIncidentsQuerySchema.parse({ ...query(path), limit: '25' });
  return captureQueries(
    getDataVersion,
    (db) => listIncidentPage(db, PUBLIC_ACTOR, { filters, sort, limit }),
    (db) => statistics(db, PUBLIC_ACTOR, { groupBy: [], filters, includeDebunked: true }),
  );
}
function statisticsPageQueries(path: string) {
  const { groupBy: _groupBy, includeDebunked, ...filters } = statisticsQuerySchema.parse(query(path));
  const groupings: Dimension[][] = [['year'], ['country'], ['attackType'], ['actorType'], ['year', 'attackType']];
  return captureQueries(
    getDataVersion,
    ...groupings.map((groupBy) => (db: Db) => statistics(db, PUBLIC_ACTOR, { groupBy, filters, includeDebunked })),
  );
}
/** What GET /v1/incidents/feed.atom sends: the data version, 50 incidents by -updated, the tombstones. */
function feedQueries(filters: string) {
  const { limit, ...parsed } = feedQuerySchema.parse(query(`/?${filters}`));
  return captureQueries(
    getDataVersion,
    (db) => latestPublicIncidents(db, parsed, limit),
    (db) => latestTombstones(db, parsed.updatedSince, limit),
  );
}
/** The first 500 published incidents by date: their pages, cycled through. */
async function publishedIncidentPages(db: Db): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`select id from incidents where visibility = 'published' and deleted_at is null
    and merged_into is null order by date_start desc, id limit 500`.execute(db);
  return rows.map((row) => `/incidents/${row.id}`);
}

const STATS = '/v1/stats?groupBy=year,attackType';
/** Distinct URLs with the same answer: a dateFrom before any incident (1900-01-01 + i days). */
const uncachedStats = Array.from(
  { length: 3000 },
  (_, i) => `${STATS}&dateFrom=${new Date(Date.UTC(1900, 0, 1 + i)).toISOString().slice(0, 10)}`,
);

const perSecondAtLeast = (rate: number) => ({
  label: `>= ${rate.toLocaleString('en')} req/s`,
  met: (r: { perSecond: number }) => r.perSecond >= rate,
});
/** Requests per second against the peer's on the same question, in the same run (`--peer`). */
const timesPeerAtLeast = (times: number) => ({
  label: `>= ${times}x the peer's req/s`,
  met: (r: { timesPeer?: number | undefined }) => r.timesPeer !== undefined && r.timesPeer >= times,
});
const p50Under = (limit: number) => ({ label: `p50 < ${limit} ms`, met: (r: { p50: number }) => r.p50 < limit });

export const scenarios: Scenario[] = [
  {
    id: 'a',
    name: 'list page, country=SY&attackType=killing',
    paths: ['/v1/incidents?country=SY&attackType=killing&limit=50'],
    connections: 4,
    expectStatus: 200,
    queries: () => listQueries('/v1/incidents?country=SY&attackType=killing&limit=50'),
    targets: [p50Under(20)],
  },
  {
    id: 'a2',
    name: 'list page, no filter',
    paths: ['/v1/incidents?limit=50'],
    connections: 4,
    expectStatus: 200,
    queries: () => listQueries('/v1/incidents?limit=50'),
    targets: [p50Under(20)],
  },
  // The Atom feed (issue 16): the list's query by -updated, the tombstones, the data version.
  ...(['', 'country=SY&attackType=killing'] as const).map((filters, index) => ({
    id: `f${index + 1}`,
    name: `Atom feed, ${filters || 'no filter'}`,
    paths: [`/v1/incidents/feed.atom${filters ? `?${filters}` : ''}`],
    connections: 4,
    expectStatus: 200,
    queries: () => feedQueries(filters),
    targets: [p50Under(30)],
  })),
  {
    id: 'b',
    name: `search q=${SEARCH_NAME}`,
    paths: [`/v1/incidents?q=${encodeURIComponent(SEARCH_NAME)}&limit=50`],
    connections: 4,
    expectStatus: 200,
    queries: () => listQueries(`/v1/incidents?q=${encodeURIComponent(SEARCH_NAME)}&limit=50`),
    // The issue sets no target for search; its latency is reported against the SQL floor only.
    targets: [],
  },
  {
    id: 'c',
    name: 'stats groupBy=year,attackType, uncached',
    paths: uncachedStats,
    connections: 2,
    expectStatus: 200,
    queries: () => statisticsQueries(uncachedStats[0]!),
    targets: [p50Under(300), { label: '<= 1.3x SQL', met: (r) => r.ratio <= 1.3 }],
  },
  {
    id: 'd',
    name: 'stats groupBy=year,attackType, If-None-Match -> 304',
    paths: [STATS],
    connections: 4,
    headers: async (baseUrl) => {
      const response = await fetch(`${baseUrl}${STATS}`, { headers: JSON_HEADERS });
      await response.arrayBuffer();
      return { 'if-none-match': response.headers.get('etag') ?? '' };
    },
    expectStatus: 304,
    queries: () => captureQueries(getDataVersion),
    targets: [p50Under(5)],
  },
  // The public site (#14): each page's HTML uncached, against the SQL of the API calls behind it.
  {
    id: 's1',
    name: 'site: explore page, country=SY&attackType=killing',
    paths: ['/explore?country=SY&attackType=killing'],
    connections: 4,
    expectStatus: 200,
    queries: () => explorePageQueries('/v1/incidents?country=SY&attackType=killing'),
    targets: [p50Under(50)],
  },
  {
    id: 's2',
    name: 'site: incident page',
    paths: publishedIncidentPages,
    connections: 4,
    expectStatus: 200,
    queries: () => captureQueries(getDataVersion, (db) => findIncidentTree(db, '00000000-0000-4000-8000-000000000000', PUBLIC_ACTOR)),
    targets: [p50Under(50)],
  },
  {
    id: 's3',
    name: 'site: statistics page, uncached',
    paths: Array.from({ length: 3000 }, (_, i) => `/statistics?dateFrom=${new Date(Date.UTC(1900, 0, 1 + i)).toISOString().slice(0, 10)}`),
    connections: 2,
    expectStatus: 200,
    queries: () => statisticsPageQueries('/v1/stats?dateFrom=1900-01-01'),
    targets: [p50Under(50)],
  },
  // Issue #18: the public read path behind the documented nginx cache. Anonymous, so the cache
  // may answer; it revalidates with the data-version ETag every PUBLIC_CACHE_SECONDS.
  {
    id: 'p1',
    name: 'through nginx: list page, no filter',
    via: 'proxy',
    paths: ['/v1/incidents?limit=50'],
    connections: 32,
    expectStatus: 200,
    queries: () => listQueries('/v1/incidents?limit=50'),
    targets: [perSecondAtLeast(10_000)],
  },
  {
    id: 'p2',
    name: 'through nginx: statistics, year x attack type',
    via: 'proxy',
    paths: [STATS],
    connections: 32,
    expectStatus: 200,
    queries: () => statisticsQueries(STATS),
    targets: [perSecondAtLeast(10_000)],
  },
  // Issue #18 item 1: list pages and the incident page from stored documents, against the peer
  // (Directus, `--peer`) on the same question: published incidents in SY, newest 50.
  {
    id: 'l1',
    name: 'list page, published in SY, newest 50, anonymous',
    paths: ['/v1/incidents?country=SY&limit=50'],
    connections: 4,
    expectStatus: 200,
    queries: () => listQueries('/v1/incidents?country=SY&limit=50'),
    peer: () => [directusIncidents({ country: 'SY' }, 50)],
    targets: [p50Under(5), timesPeerAtLeast(3)],
  },
  {
    id: 'l2',
    name: 'list page, in SY, newest 50, researcher key',
    paths: ['/v1/incidents?country=SY&limit=50'],
    connections: 4,
    headers: async (_baseUrl, db) => ({ authorization: `Bearer ${(await (researcher ??= benchResearcher(db))).key}` }),
    expectStatus: 200,
    queries: () => listQueries('/v1/incidents?country=SY&limit=50', async () => (await researcher!).actor),
    peer: () => [directusIncidents({ country: 'SY' }, 50)],
    targets: [p50Under(5), timesPeerAtLeast(3)],
  },
  {
    id: 'l3',
    name: 'incident, anonymous (500 published, cycled)',
    paths: async (db) => (await publishedIncidentPages(db)).map((page) => `/v1${page}`),
    connections: 4,
    expectStatus: 200,
    // The incident page reads no data version: one query.
    queries: () => captureQueries((db) => findIncidentDocument(db, PUBLIC_ACTOR, '00000000-0000-4000-8000-000000000000')),
    peer: (paths) => paths.map((path) => path.replace('/v1/incidents/', '/items/incidents/')),
    targets: [p50Under(5), timesPeerAtLeast(3)],
  },
  // Issue #18 item 2: statistics by a victim or claim dimension, uncached, for an anonymous caller
  // and a researcher key (who also counts their own organisation's drafts).
  ...victimAndClaimScenarios(),
];

/** The researcher's key and actor, made when its first scenario asks for its headers. */
let researcher: Promise<{ key: string; actor: Actor }> | undefined;
async function benchResearcher(db: Db): Promise<{ key: string; actor: Actor }> {
  const organisation = await db.selectFrom('organisations').select('id').orderBy('name').executeTakeFirstOrThrow();
  const row = await insertApiKey(db, { organisationId: organisation.id, name: 'bench statistics researcher', role: 'researcher' });
  return { key: row.key, actor: { kind: 'key', keyId: row.id, organisationId: organisation.id, role: 'researcher' } };
}

/**
 * The pairs that were slowest on SQL (victims or claims joined to a million incidents), each as
 * 3,000 distinct URLs with the same answer (a dateFrom before any incident), so neither the
 * statistics cache nor a kept selection answers; the floor is the SQL the handler would send
 * without the facts in memory (statistics(), with the caller's visibility).
 */
function victimAndClaimScenarios(): Scenario[] {
  // Inside the function: it runs while `scenarios` is initialised, before later constants are.
  const VICTIM_AND_CLAIM_PAIRS = [
    ['gender,victimRole', ''],
    ['year,actorType', ''],
    ['country,gender', '&victimRole=journalist&attackType=killing'],
    ['actorType,attribution', ''],
    ['attackType,gender', ''],
    ['gender,actorType', '&victimOutcome=killed'],
    ['month,victimRole', '&actorType=police,military'],
  ] as const;
  return (['anonymous', 'researcher'] as const).flatMap((caller) =>
    VICTIM_AND_CLAIM_PAIRS.map(([groupBy, filters], index): Scenario => {
      const paths = Array.from(
        { length: 3000 },
        (_, i) => `/v1/stats?groupBy=${groupBy}${filters}&dateFrom=${new Date(Date.UTC(1900, 0, 1 + i)).toISOString().slice(0, 10)}`,
      );
      return {
        id: `${caller === 'anonymous' ? 'v' : 'w'}${index + 1}`,
        name: `stats groupBy=${groupBy}${filters}, uncached, ${caller}`,
        paths,
        connections: 2,
        ...(caller === 'researcher'
          ? {
              headers: async (_baseUrl: string, db: Db) => ({
                authorization: `Bearer ${(await (researcher ??= benchResearcher(db))).key}`,
              }),
            }
          : {}),
        expectStatus: 200,
        queries: async () => {
          const actor = caller === 'researcher' ? (await researcher!).actor : PUBLIC_ACTOR;
          const { groupBy: dimensions, includeDebunked, ...parsed } = statisticsQuerySchema.parse(query(paths[0]!));
          return captureQueries(getDataVersion, (db) => statistics(db, actor, { groupBy: dimensions, filters: parsed, includeDebunked }));
        },
        targets: [p50Under(300), { label: '<= 1.3x SQL', met: (r) => r.ratio <= 1.3 }],
      };
    }),
  );
}
