import { sql } from 'kysely';
import type { Db } from '../db/create-db.ts';
import { getDataVersion } from '../db/data-version.ts';
import type { IncidentFilters } from '../incidents/incident-filters.ts';
import { DIMENSIONS, type Dimension } from './statistics.schemas.ts';
import type { Counts, GroupRow, StatisticsOptions } from './statistics.types.ts';

/**
 * The published facts as columns in memory, for the statistics everyone may see.
 *
 * The public statistics page asks five questions of every new filter, and each is a scan of the
 * whole facts table: about 300 ms at a million incidents, however the SQL is written, because the
 * facts of a million random incidents hardly group (975,888 distinct combinations of the fact
 * columns in the bench's 996,972 rows, so no rollup table is smaller than the table itself). Held
 * as typed arrays, the same scan is a few milliseconds. Only published incidents are loaded, so
 * nothing here is confidential and no visibility rule is repeated: other callers keep the SQL path.
 *
 * The columns belong to one data version. A question at another version is answered by SQL while
 * the columns are reloaded in the background (one load at a time, at most one per reload
 * interval), so an answer is never stale. test/published-facts.test.ts compares both paths.
 */

/** Dimensions and filters the columns hold; anything else is answered by SQL. */
// Every dimension but the victims' own: the facts have one row per incident.
const HELD_DIMENSIONS = new Set<Dimension>(DIMENSIONS.filter((name) => name !== 'victimRole' && name !== 'gender'));
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
]);

/** A column of small codes and the value each code stands for (null: none). */
interface CodedColumn {
  codes: Uint16Array;
  values: (string | number | null)[];
}

/** The coded columns, by the dimension they group (masks hold the mask, shown as its bits' codes). */
type CodedName =
  | 'year'
  | 'month'
  | 'country'
  | 'organisation'
  | 'attackType'
  | 'actorType'
  | 'attribution'
  | 'verificationStatus'
  | 'motive'
  | 'judicialOutcome'
  | 'deathType';

interface Snapshot {
  dataVersion: number;
  length: number;
  /** Days since 1970-01-01. */
  dateStart: Int32Array;
  dateEnd: Int32Array;
  victims: Int32Array;
  killed: Int32Array;
  coded: Record<CodedName, CodedColumn>;
  /** The codes of the facts' mask enums, in enum order: bit n of a mask is the n-th code. */
  bits: { attackType: string[]; actorType: string[]; attribution: string[] };
}

const BATCH = 100_000;
const DAY_MS = 86_400_000;
const days = (isoDate: string) => Date.parse(`${isoDate}T00:00:00Z`) / DAY_MS;
/** More groups than this (two wide masks crossed, say) are left to SQL rather than allocated. */
const MAX_GROUPS = 1 << 22;

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

  /** Whether the columns can answer this question for an anonymous caller (before looking at the version). */
  static canAnswer({ groupBy, filters }: StatisticsOptions): boolean {
    const perClaim = groupBy.includes('actorType') && groupBy.includes('attribution');
    if (perClaim || !groupBy.every((name) => HELD_DIMENSIONS.has(name))) return false;
    return Object.entries(filters).every(([name, value]) => value === undefined || HELD_FILTERS.has(name as keyof IncidentFilters));
  }

  /**
   * The answer from the columns if they hold the current data version; otherwise undefined (the
   * caller asks SQL) and a reload starts in the background.
   */
  async answer(options: StatisticsOptions, knownVersion?: number): Promise<{ groups: GroupRow[]; totals: Counts } | undefined> {
    if (!PublishedFacts.canAnswer(options)) return undefined;
    // The routes have read the version for their ETag already; ask again only when not told.
    const dataVersion = knownVersion ?? (await getDataVersion(this.#db)).dataVersion;
    const snapshot = this.#snapshot;
    if (snapshot?.dataVersion === dataVersion) return answerFrom(snapshot, options);
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

async function loadSnapshot(db: Db): Promise<Snapshot> {
  // One snapshot of the database: the version names exactly the rows read.
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const { dataVersion } = await getDataVersion(trx);
      const { rows: listRows } = await sql<Snapshot['bits'] & Record<EnumName, string[]> & { length: number }>`select
          enum_range(null::fact_attack_type)::text[] as "attackType",
          enum_range(null::fact_actor_type)::text[] as "actorType",
          enum_range(null::fact_attribution)::text[] as "attribution",
          enum_range(null::fact_verification_status)::text[] as "verificationStatus",
          enum_range(null::fact_motive)::text[] as "motive",
          enum_range(null::fact_judicial_outcome)::text[] as "judicialOutcome",
          enum_range(null::fact_death_type)::text[] as "deathType",
          (select count(*)::int from incident_facts where published) as length`.execute(trx);
      const lists = listRows[0]!;
      const length = lists.length;
      const snapshot: Snapshot = {
        dataVersion,
        length,
        dateStart: new Int32Array(length),
        dateEnd: new Int32Array(length),
        victims: new Int32Array(length),
        killed: new Int32Array(length),
        coded: {} as Record<CodedName, CodedColumn>,
        bits: { attackType: lists.attackType, actorType: lists.actorType, attribution: lists.attribution },
      };
      const coders = {} as Record<Exclude<CodedName, EnumName>, Coder>;
      for (const name of CODED_BY_VALUE) coders[name] = new Coder(length);
      const enumCodes = Object.fromEntries(ENUMS.map((name) => [name, new Uint16Array(length)])) as Record<EnumName, Uint16Array>;
      const numbers = new Int32Array(BATCH);
      let filled = 0;
      let after: string | null = null;
      // Pages in key order, each one row: numbers as big-endian int4 in one bytea per column, an
      // enum as its position, the text columns as arrays. A row per incident would make a
      // million objects for the collector to chase; this makes a few dozen.
      const int4s = (column: string) => sql`string_agg(int4send(${sql.raw(column)}), ''::bytea order by incident_id)`;
      for (;;) {
        const { rows }: { rows: FactPage[] } =
          await sql<FactPage>`select count(*)::int as count, (array_agg(incident_id order by incident_id desc))[1] as last,
            ${int4s(`date_start - date '1970-01-01'`)} as "dateStart", ${int4s(`date_end - date '1970-01-01'`)} as "dateEnd",
            ${int4s('victims')} as victims, ${int4s('victims_killed')} as killed,
            ${int4s('coalesce(year, 0)')} as "year",
            ${int4s(`coalesce((date_part('year', month) * 12 + date_part('month', month) - 1)::int, -1)`)} as "month",
            ${int4s('attack_mask')} as "attackType", ${int4s('actor_mask')} as "actorType", ${int4s('attribution_mask')} as "attribution",
            ${int4s('coalesce(array_position(enum_range(null::fact_verification_status), verification_status), 0)')} as "verificationStatus",
            ${int4s('coalesce(array_position(enum_range(null::fact_motive), motive), 0)')} as "motive",
            ${int4s('coalesce(array_position(enum_range(null::fact_judicial_outcome), judicial_outcome), 0)')} as "judicialOutcome",
            ${int4s('coalesce(array_position(enum_range(null::fact_death_type), death_type), 0)')} as "deathType",
            array_agg(country order by incident_id) as country, array_agg(organisation_id::text order by incident_id) as organisation
          from (select * from incident_facts where published ${after === null ? sql`` : sql`and incident_id > ${after}`}
            order by incident_id limit ${BATCH}) page`.execute(trx);
        const page: FactPage = rows[0]!;
        const count = Math.min(page.count, length - filled); // more cannot happen in one snapshot; guards the arrays
        const read = (column: NumberColumn, into: Int32Array | Uint16Array, offset: number) => readInt4s(page[column], count, into, offset);
        read('dateStart', snapshot.dateStart, filled);
        read('dateEnd', snapshot.dateEnd, filled);
        read('victims', snapshot.victims, filled);
        read('killed', snapshot.killed, filled);
        for (const name of ENUMS) read(name, enumCodes[name], filled);
        for (const name of ['year', 'month', 'attackType', 'actorType', 'attribution'] as const) {
          read(name, numbers, 0);
          for (let i = 0; i < count; i++) coders[name].set(filled + i, numbers[i]!);
        }
        for (const name of ['country', 'organisation'] as const) {
          const values = page[name] ?? [];
          for (let i = 0; i < count; i++) coders[name].set(filled + i, values[i]!);
        }
        filled += count;
        if (page.count < BATCH || filled === length) break;
        after = page.last;
      }
      snapshot.length = filled;
      for (const name of CODED_BY_VALUE) snapshot.coded[name] = coders[name].column();
      for (const name of ENUMS) snapshot.coded[name] = { codes: enumCodes[name], values: [null, ...lists[name]] };
      // Years and months as the SQL path shows them: 0 and -1 are "not known that precisely".
      snapshot.coded.year.values = snapshot.coded.year.values.map((year) => (year === 0 ? null : year));
      snapshot.coded.month.values = snapshot.coded.month.values.map((month) => (month === -1 ? null : monthLabel(month as number)));
      return snapshot;
    });
}

const ENUMS = ['verificationStatus', 'motive', 'judicialOutcome', 'deathType'] as const;
type EnumName = (typeof ENUMS)[number];
const CODED_BY_VALUE = ['year', 'month', 'country', 'organisation', 'attackType', 'actorType', 'attribution'] as const;
type NumberColumn =
  'dateStart' | 'dateEnd' | 'victims' | 'killed' | 'year' | 'month' | 'attackType' | 'actorType' | 'attribution' | EnumName;
type FactPage = { count: number; last: string; country: string[] | null; organisation: string[] | null } & Record<
  NumberColumn,
  Uint8Array | null
>;

/** `count` big-endian int4 values (PostgreSQL's int4send) into `into` from `offset`. */
function readInt4s(bytes: Uint8Array | null, count: number, into: Int32Array | Uint16Array, offset: number): void {
  if (!bytes) return;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) into[offset + i] = view.getInt32(i * 4);
}

/** year * 12 + month - 1 as the SQL path shows a month: "2015-10". */
function monthLabel(month: number): string {
  return `${String(Math.floor(month / 12)).padStart(4, '0')}-${String((month % 12) + 1).padStart(2, '0')}`;
}

/** Values to small codes, in order of first sight. */
class Coder {
  readonly #codes: Uint16Array;
  readonly #values: (string | number | null)[] = [];
  readonly #byValue = new Map<string | number | null, number>();
  constructor(length: number) {
    this.#codes = new Uint16Array(length);
  }
  set(i: number, value: string | number | null): void {
    let code = this.#byValue.get(value);
    if (code === undefined) {
      if (this.#values.length > 0xffff) throw new Error('more than 65,536 distinct values in one fact column');
      code = this.#values.push(value) - 1;
      this.#byValue.set(value, code);
    }
    this.#codes[i] = code;
  }
  column(): CodedColumn {
    return { codes: this.#codes, values: this.#values };
  }
}

/**
 * The rows matching the filters, one column at a time: a pass per filter over a typed array,
 * which the JIT turns into a tight loop, rather than a chain of tests per row.
 */
function selectRows(snapshot: Snapshot, { filters, includeDebunked }: StatisticsOptions): Uint8Array {
  const { length, coded } = snapshot;
  const selected = new Uint8Array(length).fill(1);
  const keep = (column: CodedColumn, wanted: (value: string | number | null) => boolean) => {
    const keeps = Uint8Array.from(column.values, (value) => (wanted(value) ? 1 : 0));
    const codes = column.codes;
    for (let i = 0; i < length; i++) selected[i]! &= keeps[codes[i]!]!;
  };
  const among = (values: readonly string[]) => (value: string | number | null) => typeof value === 'string' && values.includes(value);
  if (filters.country) keep(coded.country, among(filters.country));
  if (filters.organisation) keep(coded.organisation, among(filters.organisation));
  if (filters.verificationStatus) keep(coded.verificationStatus, among(filters.verificationStatus));
  if (filters.motive) keep(coded.motive, among(filters.motive));
  if (filters.judicialOutcome) keep(coded.judicialOutcome, among(filters.judicialOutcome));
  if (filters.deathType) keep(coded.deathType, among(filters.deathType));
  if (!includeDebunked) keep(coded.verificationStatus, (value) => value !== 'debunked');
  if (filters.attackType) {
    const wanted = filters.attackType.reduce((bits, type) => bits | (1 << snapshot.bits.attackType.indexOf(type)), 0);
    keep(coded.attackType, (mask) => ((mask as number) & wanted) !== 0);
  }
  const within = filters.dateMatch === 'within';
  const atLeast = (column: Int32Array, bound: number) => {
    for (let i = 0; i < length; i++) if (column[i]! < bound) selected[i] = 0;
  };
  const atMost = (column: Int32Array, bound: number) => {
    for (let i = 0; i < length; i++) if (column[i]! > bound) selected[i] = 0;
  };
  // overlaps: the incident may have happened in the range; within: it certainly did.
  if (filters.dateFrom) atLeast(within ? snapshot.dateStart : snapshot.dateEnd, days(filters.dateFrom.date_start));
  if (filters.dateTo) atMost(within ? snapshot.dateEnd : snapshot.dateStart, days(filters.dateTo.date_end));
  return selected;
}

/** A code column of zeros, the second column of a question with one dimension (or none); made once per snapshot. */
const zeros = new WeakMap<Snapshot, Uint16Array>();
function zerosOf(snapshot: Snapshot): Uint16Array {
  let column = zeros.get(snapshot);
  if (!column) zeros.set(snapshot, (column = new Uint16Array(snapshot.length)));
  return column;
}

/**
 * The statistics page asks several questions of one filter (a time series, bars, a cross-tab):
 * the last few selections are kept with the snapshot they were made on (a byte per row each).
 */
const selections = new WeakMap<Snapshot, Map<string, Uint8Array>>();
const KEPT_SELECTIONS = 4;

function selectionOf(snapshot: Snapshot, options: StatisticsOptions): Uint8Array {
  const kept = selections.get(snapshot) ?? new Map<string, Uint8Array>();
  selections.set(snapshot, kept);
  const key = JSON.stringify([options.filters, options.includeDebunked]);
  let selected = kept.get(key);
  if (!selected) {
    selected = selectRows(snapshot, options);
    kept.set(key, selected);
    if (kept.size > KEPT_SELECTIONS) kept.delete(kept.keys().next().value!);
  }
  return selected;
}

/** How one coded value of a dimension is shown: one value, or a mask's several (none, or null, for an empty mask). */
function shownValues(
  snapshot: Snapshot,
  name: Dimension,
  filters: IncidentFilters,
): (value: string | number | null) => (string | number | null)[] {
  if (name !== 'attackType' && name !== 'actorType' && name !== 'attribution') return (value) => [value];
  const codes = snapshot.bits[name];
  // As on the SQL path: attackType=killing&groupBy=attackType shows the killings only, and an
  // incident counts under each distinct actor type (attribution) of its claims; without claims, under null.
  const only = name === 'attackType' ? filters.attackType : undefined;
  return (value) => {
    const mask = value as number;
    const shown: (string | null)[] = [];
    for (let bit = 0; bit < codes.length; bit++) if (mask & (1 << bit) && (!only || only.includes(codes[bit]!))) shown.push(codes[bit]!);
    return mask === 0 && name !== 'attackType' ? [null] : shown;
  };
}

/** The distinct shown values of a column, and for each of its codes the positions of its shown values. */
function showCodes(column: CodedColumn, show: (value: string | number | null) => (string | number | null)[]) {
  const values: (string | number | null)[] = [];
  const positions = new Map<string | number | null, number>();
  const byCode = column.values.map((value) =>
    show(value).map((shown) => {
      let position = positions.get(shown);
      if (position === undefined) positions.set(shown, (position = values.push(shown) - 1));
      return position;
    }),
  );
  return { values, byCode };
}

/**
 * Incidents, victims and killed per code (pair of codes), as the SQL path's grouped CTE: one
 * pass over the rows, in a function of its own so the JIT compiles the loop alone. Branch-free:
 * a row left out adds zero, which is faster than skipping it when most rows are in.
 */
function sumByCode(
  selected: Uint8Array,
  first: Uint16Array,
  second: Uint16Array,
  secondSize: number,
  size: number,
  victims: Int32Array,
  killed: Int32Array,
): [Int32Array, Int32Array, Int32Array] {
  const incidents = new Int32Array(size);
  const victimSums = new Int32Array(size);
  const killedSums = new Int32Array(size);
  for (let i = 0; i < selected.length; i++) {
    const counted = selected[i]!;
    const key = first[i]! * secondSize + second[i]!;
    incidents[key]! += counted;
    victimSums[key]! += victims[i]! * counted;
    killedSums[key]! += killed[i]! * counted;
  }
  return [incidents, victimSums, killedSums];
}

function answerFrom(snapshot: Snapshot, options: StatisticsOptions): { groups: GroupRow[]; totals: Counts } | undefined {
  const { victims, killed } = snapshot;
  const selected = selectionOf(snapshot, options);
  const columns = options.groupBy.map((name) => snapshot.coded[name as CodedName]);
  const [first, second] = columns;
  const secondSize = second?.values.length ?? 1;
  const size = (first?.values.length ?? 1) * secondSize;
  if (size > MAX_GROUPS) return undefined;

  const none = zerosOf(snapshot);
  const [incidentSums, victimSums, killedSums] = sumByCode(
    selected,
    first?.codes ?? none,
    second?.codes ?? none,
    secondSize,
    size,
    victims,
    killed,
  );

  // Totals count each incident once. Each code is shown as one value (a mask as several), and
  // the sums are added up per shown value (pair of values), numbered like the codes.
  const totals = { incidents: 0, victims: 0, victimsKilled: 0 };
  for (let key = 0; key < size; key++) {
    totals.incidents += incidentSums[key]!;
    totals.victims += victimSums[key]!;
    totals.victimsKilled += killedSums[key]!;
  }
  const shownAs = columns.map((column, d) => showCodes(column!, shownValues(snapshot, options.groupBy[d]!, options.filters)));
  const [firstShown, secondShown] = shownAs;
  const secondShownSize = secondShown?.values.length ?? 1;
  const groupSize = (firstShown?.values.length ?? 1) * secondShownSize;
  const groupSums = [new Float64Array(groupSize), new Float64Array(groupSize), new Float64Array(groupSize)] as const;
  const noValue = [0];
  for (let key = 0; columns.length > 0 && key < size; key++) {
    if (!incidentSums[key]) continue;
    for (const x of firstShown?.byCode[Math.floor(key / secondSize)] ?? noValue) {
      for (const y of secondShown?.byCode[key % secondSize] ?? noValue) {
        const group = x * secondShownSize + y;
        groupSums[0][group]! += incidentSums[key]!;
        groupSums[1][group]! += victimSums[key]!;
        groupSums[2][group]! += killedSums[key]!;
      }
    }
  }
  const groups: GroupRow[] = [];
  for (let group = 0; columns.length > 0 && group < groupSize; group++) {
    if (!groupSums[0][group]) continue;
    const values = [firstShown!.values[Math.floor(group / secondShownSize)], secondShown?.values[group % secondShownSize]];
    groups.push({
      ...Object.fromEntries(options.groupBy.map((name, d) => [name, values[d]])),
      incidents: groupSums[0][group]!,
      victims: groupSums[1][group]!,
      victimsKilled: groupSums[2][group]!,
    });
  }
  const ordered = groups.sort((x, y) => {
    for (const name of options.groupBy) {
      const order = compareNullsLast(x[name], y[name]);
      if (order !== 0) return order;
    }
    return 0;
  });
  return { groups: ordered, totals };
}

/** The SQL path's `order by ... nulls last` on numbers and on text in byte order (the C collation). */
function compareNullsLast(a: string | number | null | undefined, b: string | number | null | undefined): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return a < b ? -1 : 1;
}

const registry = new WeakMap<Db, PublishedFacts>();

/** Keep the published facts in memory for this database (src/app.ts, when STATISTICS_IN_MEMORY is on). */
export function keepPublishedFactsInMemory(db: Db, options: PublishedFactsOptions = {}): PublishedFacts {
  const facts = registry.get(db) ?? new PublishedFacts(db, options);
  registry.set(db, facts);
  return facts;
}

/** The in-memory published facts of this database, if they are kept. */
export function publishedFactsOf(db: Db): PublishedFacts | undefined {
  return registry.get(db);
}
