import type { Actor } from '../auth/actor.ts';
import type { Db } from '../db/create-db.ts';
import { getDataVersion } from '../db/data-version.ts';
import type { IncidentFilters } from '../incidents/incident-filters.ts';
import { answerFrom } from './facts-counting.ts';
import { loadSnapshot, type Snapshot } from './facts-snapshot.ts';
import { canView, viewerOf } from './facts-viewer.ts';
import type { Counts, GroupRow, StatisticsOptions } from './statistics.types.ts';

/**
 * The statistics facts as columns in memory, for every anonymous or keyed caller.
 *
 * The public statistics page asks five questions of every new filter, and each is a scan of the
 * whole facts table: about 300 ms at a million incidents, however the SQL is written, because the
 * facts of a million random incidents hardly group (975,888 distinct combinations of the fact
 * columns in the bench's 996,972 rows, so no rollup table is smaller than the table itself); by a
 * victim or claim dimension SQL joins 1.5M victims or 800k claims as well (1.6-2 s). Held as
 * typed arrays (facts-snapshot.ts: one row per incident, per victim and per claim), each question
 * is a counting pass of a few milliseconds (facts-counting.ts). Drafts are held with their
 * organisation, and each caller counts what the SQL path would let them (facts-viewer.ts).
 *
 * The columns belong to one data version. A question at another version is answered by SQL while
 * the columns are reloaded in the background (one load at a time, at most one per reload
 * interval), so an answer is never stale. test/published-facts.test.ts and
 * test/statistics-paths.test.ts compare both paths.
 */

/** Filters the columns hold; anything else (search, place, update time, protected victims, actor names) is answered by SQL. */
const HELD_FILTERS = new Set<keyof IncidentFilters>([
  'country',
  'attackType',
  'verificationStatus',
  'motive',
  'judicialOutcome',
  'deathType',
  'organisation',
  'dateFrom',
  'dateTo',
  'dateMatch',
  'victimRole',
  'victimOutcome',
  'victimGender',
  'actorType',
  'attribution',
]);

export interface PublishedFactsOptions {
  /** The shortest time between the starts of two loads, so a stream of writes does not keep a core busy reloading. */
  minReloadIntervalMs?: number;
  onError?: (error: unknown) => void;
}

export class PublishedFacts {
  readonly #db: Db;
  readonly #minReloadIntervalMs: number;
  readonly #onError: (error: unknown) => void;
  #snapshot: Snapshot | undefined;
  #loading: Promise<void> | undefined;
  #lastLoadStarted = -Infinity;

  constructor(db: Db, { minReloadIntervalMs = 5_000, onError = () => {} }: PublishedFactsOptions = {}) {
    this.#db = db;
    this.#minReloadIntervalMs = minReloadIntervalMs;
    this.#onError = onError;
  }

  /** The data version the columns in memory hold; undefined before the first load. */
  get dataVersion(): number | undefined {
    return this.#snapshot?.dataVersion;
  }

  /** Whether the columns can answer this question (before looking at the version): every dimension, most filters. */
  static canAnswer({ filters }: StatisticsOptions, actor: Actor = { kind: 'public' }): boolean {
    if (!canView(actor)) return false;
    return Object.entries(filters).every(([name, value]) => value === undefined || HELD_FILTERS.has(name as keyof IncidentFilters));
  }

  /**
   * The answer from the columns if they hold the current data version; otherwise undefined (the
   * caller asks SQL) and a reload starts in the background.
   */
  async answer(
    options: StatisticsOptions,
    actor: Actor = { kind: 'public' },
    knownVersion?: number,
  ): Promise<{ groups: GroupRow[]; totals: Counts } | undefined> {
    if (!PublishedFacts.canAnswer(options, actor)) return undefined;
    // The routes have read the version for their ETag already; ask again only when not told.
    const dataVersion = knownVersion ?? (await getDataVersion(this.#db)).dataVersion;
    const snapshot = this.#snapshot;
    if (snapshot?.dataVersion === dataVersion) return answerFrom(snapshot, viewerOf(snapshot, actor), options);
    this.#reloadSoon();
    return undefined;
  }

  /** Loads the columns now (tests, and a warm start); resolves when they are in place. */
  async load(): Promise<void> {
    this.#lastLoadStarted = performance.now();
    this.#loading ??= loadSnapshot(this.#db)
      .then((snapshot) => {
        this.#snapshot = snapshot;
      })
      .finally(() => {
        this.#loading = undefined;
      });
    return this.#loading;
  }

  /** Resolves once columns are in memory: the load under way, or a first one (the bench waits on it). */
  async ready(): Promise<void> {
    if (this.#loading) await this.#loading;
    if (!this.#snapshot) await this.load();
  }

  #reloadSoon(): void {
    if (this.#loading || performance.now() - this.#lastLoadStarted < this.#minReloadIntervalMs) return;
    this.load().catch(this.#onError);
  }
}

const registry = new WeakMap<Db, PublishedFacts>();

/** Keep the statistics facts in memory for this database (src/app.ts, when STATISTICS_IN_MEMORY is on). */
export function keepPublishedFactsInMemory(db: Db, options: PublishedFactsOptions = {}): PublishedFacts {
  const facts = registry.get(db) ?? new PublishedFacts(db, options);
  registry.set(db, facts);
  return facts;
}

/** The statistics facts in memory of this database, if they are kept. */
export function publishedFactsOf(db: Db): PublishedFacts | undefined {
  return registry.get(db);
}
