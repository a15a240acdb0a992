import { PUBLIC_ACTOR } from '../auth/actor.ts';
import type { Db } from '../db/create-db.ts';
import type { IncidentFilters } from '../incidents/incident-filters.ts';
import { listIncidentPage, type IncidentSort } from '../incidents/incident-list.queries.ts';
import { encodeCursor, readCursor } from '../incidents/page-cursor.ts';
import { findIncidentTree, findMergeSurvivor } from '../incidents/incident.queries.ts';
import type { PublicIncident } from '../incidents/incident.schemas.ts';
import { shapeIncident } from '../incidents/incident-shapes.ts';
import { StatisticsCache } from '../statistics/statistics-cache.ts';
import { statistics } from '../statistics/statistics.queries.ts';
import type { Dimension } from '../statistics/statistics.schemas.ts';
import { fillTimeSeries } from '../statistics/time-series.ts';

/**
 * What the pages read, always as the public: the same query functions and the same public
 * shape as the anonymous API, so the site can never show more than GET /v1/... does.
 */
const actor = PUBLIC_ACTOR;

export class SiteData {
  readonly #db: Db;
  readonly #cache: StatisticsCache<Awaited<ReturnType<typeof statistics>>>;

  constructor(db: Db, cache = new StatisticsCache<Awaited<ReturnType<typeof statistics>>>(300)) {
    this.#db = db;
    this.#cache = cache;
  }

  /** The same, reading from another handle (a replica: src/auth/read-routing.ts); the statistics cache, per data version, is shared. */
  readingFrom(db: Db): SiteData {
    return db === this.#db ? this : new SiteData(db, this.#cache);
  }

  /**
   * A page of the list and the number of matching incidents. The number is the statistics' total
   * with debunked incidents counted (the list shows them): read from the narrow facts table and
   * cached per data version, it costs the explore page a few milliseconds where counting the
   * incidents themselves took ~100 ms at a million (BENCHMARKS.md, scenario s1).
   */
  async page(dataVersion: number, filters: IncidentFilters, cursor: string | undefined, limit: number) {
    const sort: IncidentSort = filters.q ? 'relevance' : '-date';
    // A cursor from another sort, or one that does not parse, starts again from the first page.
    const after = cursor ? readCursor(cursor, sort) : undefined;
    const [{ rows, next }, counted] = await Promise.all([
      listIncidentPage(this.#db, actor, { filters, sort, limit, after }),
      this.counts(dataVersion, [], filters, true),
    ]);
    return {
      incidents: rows.map((row) => shapeIncident(row, 'public') as PublicIncident),
      next: next ? encodeCursor(next) : undefined,
      total: counted.totals.incidents,
    };
  }

  async incident(id: string): Promise<{ incident?: PublicIncident; mergedInto?: string }> {
    const row = await findIncidentTree(this.#db, id, actor);
    if (row) return { incident: shapeIncident(row, 'public') as PublicIncident };
    const survivor = await findMergeSurvivor(this.#db, actor, id);
    return survivor ? { mergedInto: survivor } : {};
  }

  /** Counts per group, debunked incidents left out (as GET /v1/stats by default). Time series are filled with zeros. */
  async counts(dataVersion: number, groupBy: Dimension[], filters: IncidentFilters, includeDebunked = false) {
    const options = { groupBy, filters, includeDebunked };
    const result = await this.#cache.get(this.#cache.key(dataVersion, actor, options), () =>
      statistics(this.#db, actor, options, dataVersion),
    );
    const groups = groupBy.length
      ? fillTimeSeries(result.groups, groupBy, { from: filters.dateFrom?.date_start, to: filters.dateTo?.date_end })
      : [];
    return { groups, totals: result.totals };
  }

  /** Countries with at least one published incident, for the country filter. */
  async countries(dataVersion: number): Promise<string[]> {
    const { groups } = await this.counts(dataVersion, ['country'], { dateMatch: 'overlaps' }, true);
    return groups.map((group) => group.country).filter((code): code is string => typeof code === 'string');
  }
}
