import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { ownOrganisation, type Actor } from '../auth/actor.ts';
import { matchesFilters, type IncidentFilters } from '../incidents/incident-filters.ts';
import { visibleTo } from '../incidents/incident.queries.ts';
import { seesAllOf } from '../incidents/access.queries.ts';
import { CSV_BOM, CSV_FORMULA_STARTS, CSV_RECORD_END } from './csv.ts';
import type { CsvLineRow } from './sealed-csv-cells.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';

/**
 * Incidents as CSV records, one per incident, built by PostgreSQL: each row of the query is one
 * finished line. A full export is the one place where Node would otherwise parse, shape and
 * re-serialise a million incident trees; here it only passes text along (BENCHMARKS.md: the
 * Node-built file ran at 11,000 rows/s, this one at the speed PostgreSQL reads).
 *
 * The lines follow the rules of src/exports/csv.ts (RFC 4180, quotes only where needed, a
 * leading apostrophe on text that a spreadsheet would run as a formula), and hold what the
 * caller's view of each incident holds (src/incidents/incident-shapes.ts): outside the owning
 * organisation a protected victim is "name withheld" with no gender, nationality or outlet, and
 * only public sources are listed. test/exports-csv.test.ts checks every field of every row
 * against the JSON export of the same caller.
 *
 * Lists (attack types, victims, perpetrators, sources) are joined with ';'. The victim_* columns
 * run in parallel (the 2nd name, role and outcome are the same victim, an unknown value is an
 * empty item), and so do the source_* columns. src/imports/native-format.ts reads every list
 * column back, so export -> import -> export gives the same file. The JSON export is the
 * lossless one: a ';' inside a name cannot be told apart from the separator here, and aliases,
 * claims' statements and sources' publishers are not in the CSV.
 */

/** Which incidents, in which order: a whole export, or the rows of one list page. */
export type CsvScope = { kind: 'export'; filters: IncidentFilters; sort: ExportSort } | { kind: 'page'; ids: readonly string[] };

export type ExportSort = 'date' | '-date' | 'updated' | '-updated';

/** The column names of the caller's file, in order (sealed-csv-cells.ts fills some by name). */
export const incidentCsvColumnNames = (actor: Actor) => columnsFor(actor).map((column) => column.name);

export function incidentCsvHead(actor: Actor): string {
  return (
    CSV_BOM +
    columnsFor(actor)
      .map((column) => column.name)
      .join(',') +
    CSV_RECORD_END
  );
}

/**
 * The query whose rows ({ line }) are the CSV records, without line ends, in order. The child
 * lists come ready-made from incident_lists (migration 0008), one primary-key lookup per
 * incident, so PostgreSQL can stream an export in order from its first row.
 */
export function selectIncidentCsvLines(db: DbOrTransaction, actor: Actor, scope: CsvScope) {
  const view = viewColumns(actor);
  const cells = sql.join(columnsFor(actor).map((column) => column.value(view)));
  // Rows with encrypted values the caller may read come as cells, filled in Node (sealed-csv-cells.ts).
  const sealed = sql<SqlBool>`(${view.isOwn} and (l.victim_protected like '%true%' or incidents.internal_notes is not null))`;
  const query = db
    .selectFrom('incidents')
    .innerJoin('organisations', 'organisations.id', 'incidents.organisation_id')
    .leftJoin('incident_lists as l', 'l.incident_id', 'incidents.id')
    .select([
      'incidents.id',
      sql<string | null>`case when ${sealed} then null else concat_ws(',', ${cells}) end`.as('line'),
      sql<string[] | null>`case when ${sealed} then array[${cells}] end`.as('cells'),
      sql<CsvLineRow['victims']>`case when ${sealed} then (select json_agg(json_build_object('id', v.id, 'name', v.name,
        'name_original', v.name_original, 'aliases', v.aliases, 'nationality', v.nationality, 'outlet', v.outlet,
        'identity_sealed', v.identity_sealed) order by v.position) from victims v where v.incident_id = incidents.id) end`.as('victims'),
      sql<string | null>`case when ${sealed} then incidents.internal_notes end`.as('notes'),
    ])
    .where(visibleTo(actor));
  if (scope.kind === 'page') {
    return query
      .where(sql<SqlBool>`incidents.id = any(${scope.ids}::uuid[])`)
      .orderBy(sql`array_position(${scope.ids}::uuid[], incidents.id)`);
  }
  const direction = scope.sort.startsWith('-') ? 'desc' : 'asc';
  const column = scope.sort.endsWith('updated') ? 'incidents.updated_at' : 'incidents.date_start';
  return query.where(matchesFilters(scope.filters, actor)).orderBy(column, direction).orderBy('incidents.id', direction);
}

/** What a column needs to know of the caller: their own organisation, if any, and whether they see state columns. */
interface View {
  own: string | undefined;
  /** True on the rows the caller sees in full (their own organisation's incidents). */
  isOwn: RawBuilder<SqlBool>;
  /** True on the rows whose visibility and version the caller sees (research view or own). */
  seesState: RawBuilder<SqlBool>;
}

function viewColumns(actor: Actor): View {
  const own = ownOrganisation(actor);
  // An incident with anything behind an access group the caller is not in gets the public lists
  // and no internal notes: the ready-made lists cannot withhold one victim (access.queries.ts).
  const isOwn = own ? seesAllOf(actor) : sql<SqlBool>`false`;
  const researcher = actor.kind === 'key' && actor.role === 'researcher';
  return { own, isOwn, seesState: researcher ? sql<SqlBool>`true` : isOwn };
}

interface CsvColumn {
  name: string;
  value: (view: View) => RawBuilder<unknown>;
}

/**
 * A text cell as src/exports/csv.ts writes it (csv-stringify with escape_formulas): text that
 * starts like a formula gets a leading apostrophe; text with a quote, comma or line break is
 * quoted, its quotes doubled. NULL and '' are an empty cell.
 */
function text(value: RawBuilder<unknown>): RawBuilder<string> {
  const starts = sql.join(CSV_FORMULA_STARTS.map((start) => sql.lit(start)));
  const guarded = sql`case when left(${value}, 1) in (${starts}) then '''' || ${value} else ${value} end`;
  return sql<string>`case when ${value} ~ '[",\\n\\r]' then '"' || replace(${guarded}, '"', '""') || '"' else coalesce(${guarded}, '') end`;
}

/** A cell that cannot need quoting or a formula guard: codes, numbers, dates, uuids, booleans. */
const plain = (value: RawBuilder<unknown>) => sql<string>`coalesce(${value}::text, '')`;
const timestamp = (column: string) => plain(sql`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
/** The whole list on the caller's own incidents, the public one elsewhere (incident_lists has both). */
const ownOr = (view: View, name: string) =>
  view.own
    ? sql`case when ${view.isOwn} then ${sql.ref(`l.${name}`)} else ${sql.ref(`l.public_${name}`)} end`
    : sql.ref(`l.public_${name}`);

const columns: CsvColumn[] = [
  { name: 'id', value: () => plain(sql.ref('incidents.id')) },
  { name: 'title', value: () => text(sql.ref('incidents.title')) },
  { name: 'description', value: () => text(sql.ref('incidents.description')) },
  { name: 'date_precision', value: () => plain(sql.ref('incidents.date_precision')) },
  { name: 'date_start', value: () => plain(sql.ref('incidents.date_start')) },
  { name: 'date_end', value: () => plain(sql.ref('incidents.date_end')) },
  { name: 'country', value: () => plain(sql.ref('incidents.country')) },
  { name: 'region', value: () => text(sql.ref('incidents.region')) },
  { name: 'city', value: () => text(sql.ref('incidents.city')) },
  { name: 'latitude', value: () => plain(sql.ref('incidents.latitude')) },
  { name: 'longitude', value: () => plain(sql.ref('incidents.longitude')) },
  // Only with coordinates, as the JSON has it (inside location.coordinates).
  {
    name: 'coordinate_precision',
    value: () => plain(sql`case when incidents.latitude is not null then incidents.coordinate_precision end`),
  },
  { name: 'attack_types', value: () => plain(sql`array_to_string(incidents.attack_types, ';')`) },
  { name: 'verification_status', value: () => plain(sql.ref('incidents.verification_status')) },
  { name: 'motive', value: () => plain(sql.ref('incidents.motive')) },
  { name: 'judicial_outcome', value: () => plain(sql.ref('incidents.judicial_outcome')) },
  { name: 'death_type', value: () => plain(sql.ref('incidents.death_type')) },
  { name: 'victim_count', value: () => plain(sql`coalesce(l.victim_count, 0)`) },
  { name: 'victims_killed', value: () => plain(sql`coalesce(l.victims_killed, 0)`) },
  { name: 'victim_names', value: (view) => text(ownOr(view, 'victim_names')) },
  { name: 'victim_roles', value: () => plain(sql.ref('l.victim_roles')) },
  { name: 'victim_outcomes', value: () => plain(sql.ref('l.victim_outcomes')) },
  // A withheld victim has none of these three: an empty item, as for an unknown value.
  { name: 'victim_genders', value: (view) => plain(ownOr(view, 'victim_genders')) },
  { name: 'victim_nationalities', value: (view) => plain(ownOr(view, 'victim_nationalities')) },
  { name: 'victim_outlets', value: (view) => text(ownOr(view, 'victim_outlets')) },
  // So that re-importing the owner's own export keeps a protected victim protected.
  { name: 'victim_protected', value: () => plain(sql.ref('l.victim_protected')) },
  { name: 'perpetrators', value: () => text(sql.ref('l.perpetrators')) },
  { name: 'source_titles', value: (view) => text(ownOr(view, 'source_titles')) },
  { name: 'source_urls', value: (view) => text(ownOr(view, 'source_urls')) },
  { name: 'source_kinds', value: (view) => plain(ownOr(view, 'source_kinds')) },
  // Outside the owner only public sources are listed, so each of them is "true".
  { name: 'source_public', value: (view) => plain(ownOr(view, 'source_public')) },
  { name: 'organisation', value: () => text(sql.ref('organisations.name')) },
  { name: 'published_at', value: () => timestamp('incidents.published_at') },
  { name: 'updated_at', value: () => timestamp('incidents.updated_at') },
];

/** Drafts are in the research and full views, so whoever may see drafts gets these. */
const stateColumns: CsvColumn[] = [
  { name: 'visibility', value: (view) => plain(sql`case when ${view.seesState} then incidents.visibility end`) },
  { name: 'version', value: (view) => plain(sql`case when ${view.seesState} then incidents.version end`) },
];

/** Only in the full view: empty on the rows of other organisations' incidents. */
const internalColumns: CsvColumn[] = [
  { name: 'internal_notes', value: (view) => text(sql`case when ${view.isOwn} then incidents.internal_notes end`) },
];

/**
 * One set of columns for the whole file, fixed by who asks: a file mixes views (an editor sees
 * their own incidents in full and other organisations' published ones in the public view).
 */
function columnsFor(actor: Actor): CsvColumn[] {
  if (actor.kind === 'public' || actor.role === 'admin') return columns;
  if (actor.role === 'researcher') return [...columns, ...stateColumns];
  return [...columns, ...internalColumns, ...stateColumns];
}
