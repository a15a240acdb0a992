import { WITHHELD_NAME } from '../incidents/incident.schemas.ts';
import type { CsvRecord } from './csv-records.ts';
import { columnResolver, rowErrors, type ImportFormat, type RowErrors } from './import-format.ts';

/**
 * Dateline's own CSV export (src/exports/incident-csv.ts), read back. Lists are ';'-separated
 * and the victim_* (and source_*) columns run in parallel, as the export writes them. Columns
 * that describe a stored record rather than the incident (id, verification_status, organisation,
 * version, visibility, published_at, updated_at, victims_killed) are not read: the import makes a
 * new record in the importing organisation, unverified and as a draft. README.md has the details.
 */

/** The export escapes cells that a spreadsheet would run as a formula with a leading apostrophe. */
const ESCAPED_FORMULA = /^'[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;
const unescape = (value: string) => (ESCAPED_FORMULA.test(value) ? value.slice(1) : value);

const VICTIM_LISTS = {
  victim_names: 'name',
  victim_roles: 'role',
  victim_outcomes: 'outcome',
  victim_genders: 'gender',
  victim_nationalities: 'nationality',
  victim_outlets: 'outlet',
  victim_protected: 'protected',
} as const;
const SOURCE_LISTS = { source_titles: 'title', source_urls: 'url', source_kinds: 'kind', source_public: 'public' } as const;

const READ = new Set([
  'title',
  'description',
  'internal_notes',
  'date_precision',
  'date_start',
  'date_end',
  'country',
  'region',
  'city',
  'latitude',
  'longitude',
  'coordinate_precision',
  'attack_types',
  'motive',
  'judicial_outcome',
  'death_type',
  'victim_count',
  'perpetrators',
  ...Object.keys(VICTIM_LISTS),
  ...Object.keys(SOURCE_LISTS),
]);

const items = (value: string) => (value === '' ? [] : value.split(';').map((item) => item.trim()));
const orNull = (value: string) => value || null;

function date(errors: RowErrors, precision: string, start: string, end: string) {
  const fail = (reason: string) => {
    errors.add('date_start', reason, `${start}..${end}`);
    return undefined;
  };
  switch (precision) {
    case 'day':
      return start === end ? { precision, value: start } : fail('a day has the same date_start and date_end');
    case 'month':
      return start.endsWith('-01') && end.slice(0, 7) === start.slice(0, 7)
        ? { precision, value: start.slice(0, 7) }
        : fail('a month runs from its first to its last day');
    case 'year':
      return start.endsWith('-01-01') && end === `${start.slice(0, 4)}-12-31`
        ? { precision, value: start.slice(0, 4) }
        : fail('a year runs from 01-01 to 12-31');
    case 'range':
      return { precision, from: start, to: end };
    default:
      errors.add('date_precision', 'expected day, month, year or range', precision);
      return undefined;
  }
}

function coordinates(errors: RowErrors, latitude: string, longitude: string, precision: string) {
  if (!latitude && !longitude) return null;
  const [lat, lon] = [Number(latitude), Number(longitude)];
  if (!latitude || !longitude || Number.isNaN(lat) || Number.isNaN(lon)) {
    errors.add(
      latitude && !Number.isNaN(lat) ? 'longitude' : 'latitude',
      'give both latitude and longitude as decimal numbers',
      `${latitude}, ${longitude}`,
    );
    return undefined;
  }
  return { latitude: lat, longitude: lon, precision: orNull(precision) };
}

/** Parallel ';'-lists into one object per item; a list that is empty stands for "all unknown". */
function parallel<K extends string>(
  errors: RowErrors,
  cell: (column: string) => string,
  lists: Record<string, K>,
  count: number | undefined,
) {
  const columns = Object.entries(lists).map(([column, field]) => ({ column, field: field as K, values: items(cell(column)) }));
  const total = count ?? Math.max(0, ...columns.map((list) => list.values.length));
  const objects = Array.from({ length: total }, () => ({}) as Partial<Record<K, string>>);
  for (const { column, field, values } of columns) {
    if (values.length === 0) continue;
    if (values.length !== total) {
      errors.add(column, `has ${values.length} items separated by ";" where ${total} are expected`, cell(column));
      continue;
    }
    values.forEach((value, index) => {
      if (value) objects[index]![field] = value;
    });
  }
  return objects;
}

const BOOLEAN: Record<string, boolean> = { true: true, false: false, yes: true, no: false };

function victims(errors: RowErrors, cell: (column: string) => string) {
  const countCell = cell('victim_count');
  const count = countCell === '' ? undefined : Number(countCell);
  if (count !== undefined && !(Number.isInteger(count) && count >= 0)) {
    errors.add('victim_count', 'not a whole number', countCell);
    return [];
  }
  return parallel(errors, cell, VICTIM_LISTS, count).map((victim) => {
    // Outside the owning organisation the export says "name withheld" for a protected victim.
    const withheld = victim.name === WITHHELD_NAME;
    const flag = victim.protected === undefined ? undefined : BOOLEAN[victim.protected.toLowerCase()];
    if (victim.protected !== undefined && flag === undefined) errors.add('victim_protected', 'use true or false', victim.protected);
    return {
      name: withheld ? null : (victim.name ?? null),
      role: victim.role ?? null,
      outcome: victim.outcome ?? null,
      gender: victim.gender ?? null,
      nationality: victim.nationality ?? null,
      outlet: victim.outlet ?? null,
      protected: withheld || flag === true,
    };
  });
}

const CLAIM = /^(.+) \(([a-z_]+), ([a-z_]+)\)$/;

function perpetratorClaims(errors: RowErrors, value: string) {
  return items(value).flatMap((item) => {
    const match = CLAIM.exec(item);
    if (match) return [{ actorName: match[1], actorType: match[2], attribution: match[3] }];
    errors.add('perpetrators', 'expected "Name (actor_type, attribution)"', item);
    return [];
  });
}

function convert(record: CsvRecord) {
  const errors = rowErrors();
  const cell = (column: string) => unescape(record.cell(column));
  const sources = parallel(errors, cell, SOURCE_LISTS, undefined).map((source) => ({
    title: source.title ?? null,
    url: source.url ?? null,
    // The export does not say what kind a source is, nor whether it was public: "other" and private.
    kind: source.kind ?? 'other',
    public: source.public === undefined ? false : (BOOLEAN[source.public.toLowerCase()] ?? source.public),
  }));
  const incident = {
    title: cell('title'),
    description: orNull(cell('description')),
    internalNotes: orNull(cell('internal_notes')),
    date: date(errors, cell('date_precision'), cell('date_start'), cell('date_end')),
    location: {
      country: cell('country'),
      region: orNull(cell('region')),
      city: orNull(cell('city')),
      coordinates: coordinates(errors, cell('latitude'), cell('longitude'), cell('coordinate_precision')),
    },
    attackTypes: items(cell('attack_types')),
    motive: orNull(cell('motive')),
    judicialOutcome: orNull(cell('judicial_outcome')),
    deathType: orNull(cell('death_type')),
    victims: victims(errors, cell),
    perpetratorClaims: perpetratorClaims(errors, cell('perpetrators')),
    sources,
  };
  return { incident, errors: errors.errors };
}

export const nativeFormat: ImportFormat = {
  requiredColumns: ['title', 'date_precision', 'date_start', 'date_end', 'country', 'attack_types'],
  readsColumn: (column) => READ.has(column),
  convert,
  columnOf: columnResolver(
    {
      title: 'title',
      description: 'description',
      internalNotes: 'internal_notes',
      date: 'date_start',
      'location.country': 'country',
      'location.region': 'region',
      'location.city': 'city',
      'location.coordinates': 'latitude',
      'location.coordinates.longitude': 'longitude',
      'location.coordinates.precision': 'coordinate_precision',
      attackTypes: 'attack_types',
      motive: 'motive',
      judicialOutcome: 'judicial_outcome',
      deathType: 'death_type',
      victims: 'victim_count',
      perpetratorClaims: 'perpetrators',
      ...Object.fromEntries(Object.entries(VICTIM_LISTS).map(([column, field]) => [`victims.*.${field}`, column])),
      ...Object.fromEntries(Object.entries(SOURCE_LISTS).map(([column, field]) => [`sources.*.${field}`, column])),
    },
    '(row)',
  ),
};
