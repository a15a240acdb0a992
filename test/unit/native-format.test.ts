import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { planImport } from '../../src/imports/import-plan.ts';

/**
 * Dateline's own CSV export read back (src/imports/README.md, "native"), without a database: one
 * row becomes the body POST /v1/incidents would take; the ';'-lists of victim_* and source_*
 * columns run in parallel; a stored date range that is not the day, month or year it claims is
 * rejected. The export -> import -> export round trip over HTTP: test/imports-formats.test.ts.
 */
const EXPORT_COLUMNS = [
  'id',
  'title',
  'description',
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
  'verification_status',
  'motive',
  'judicial_outcome',
  'death_type',
  'victim_count',
  'victims_killed',
  'victim_names',
  'victim_roles',
  'victim_outcomes',
  'victim_genders',
  'victim_nationalities',
  'victim_outlets',
  'victim_protected',
  'perpetrators',
  'source_titles',
  'source_urls',
  'source_kinds',
  'source_public',
  'organisation',
  'published_at',
  'updated_at',
  'visibility',
  'version',
  'internal_notes',
];
/** The smallest row that imports: the required columns. */
const GOOD: Record<string, string> = {
  title: 'Reporter threatened',
  date_precision: 'day',
  date_start: '2024-03-15',
  date_end: '2024-03-15',
  country: 'TR',
  attack_types: 'threat_harassment',
};

const quote = (cell: string) => (/[",\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);
/** The plan of a one-row file with the export's columns: cells by column name, every other cell empty. */
function planRow(cells: Record<string, string>, columns = EXPORT_COLUMNS) {
  const row = { ...GOOD, ...cells };
  return planImport(`${columns.join(',')}\n${columns.map((column) => quote(row[column] ?? '')).join(',')}\n`, {
    format: 'native',
    fileName: 'export.csv',
  });
}
function imported(cells: Record<string, string>) {
  const plan = planRow(cells);
  expect(plan.rejected).toEqual([]);
  return plan.valid[0]!.input;
}
function rejected(cells: Record<string, string>) {
  const plan = planRow(cells);
  expect(plan.valid).toEqual([]);
  return plan.rejected[0]!.errors;
}

describe('a native row', () => {
  it('becomes an incident body, the record-only columns listed as ignored', () => {
    const plan = planRow({
      id: 'a3f0c1de-0000-4000-8000-000000000000',
      title: "'=Not a formula",
      description: 'Shot at a checkpoint.',
      internal_notes: 'Call the family first',
      date_precision: 'range',
      date_start: '2017-09-20',
      date_end: '2017-09-30',
      country: 'SY',
      region: 'Idlib',
      city: 'Saraqib',
      latitude: '35.86',
      longitude: '36.8',
      coordinate_precision: 'city',
      attack_types: 'killing;abduction',
      verification_status: 'verified',
      motive: 'work_related_confirmed',
      judicial_outcome: 'no_investigation',
      death_type: 'murder',
      victim_count: '2',
      victims_killed: '2',
      victim_names: 'Hala Barakat;Orouba Barakat',
      victim_roles: 'journalist;activist',
      victim_outcomes: 'killed;killed',
      victim_genders: 'female;female',
      victim_nationalities: 'SY;SY',
      victim_outlets: 'Orient News;',
      victim_protected: 'false;true',
      perpetrators: 'Group, the first (non_state_armed_group, claimed_by_perpetrator);Police (state_security, alleged_by_victim)',
      source_titles: 'Report;Statement',
      source_urls: 'https://example.org/a;',
      source_kinds: 'media_report;official_statement',
      source_public: 'true;false',
      organisation: 'Some organisation',
      published_at: '2020-01-01',
      updated_at: '2020-01-02',
      visibility: 'public',
      version: '3',
    });
    expect(plan.ignoredColumns).toEqual([
      'id',
      'verification_status',
      'victims_killed',
      'organisation',
      'published_at',
      'updated_at',
      'visibility',
      'version',
    ]);
    expect(plan.rejected).toEqual([]);
    expect(plan.valid).toEqual([
      {
        line: 2,
        input: {
          title: '=Not a formula',
          description: 'Shot at a checkpoint.',
          internalNotes: 'Call the family first',
          date: { precision: 'range', from: '2017-09-20', to: '2017-09-30' },
          location: {
            country: 'SY',
            region: 'Idlib',
            city: 'Saraqib',
            coordinates: { latitude: 35.86, longitude: 36.8, precision: 'city' },
          },
          attackTypes: ['killing', 'abduction'],
          motive: 'work_related_confirmed',
          judicialOutcome: 'no_investigation',
          deathType: 'murder',
          victims: [
            {
              name: 'Hala Barakat',
              aliases: [],
              role: 'journalist',
              gender: 'female',
              nationality: 'SY',
              outlet: 'Orient News',
              outcome: 'killed',
              protected: false,
            },
            {
              name: 'Orouba Barakat',
              aliases: [],
              role: 'activist',
              gender: 'female',
              nationality: 'SY',
              outlet: null,
              outcome: 'killed',
              protected: true,
            },
          ],
          perpetratorClaims: [
            { actorName: 'Group, the first', actorType: 'non_state_armed_group', attribution: 'claimed_by_perpetrator' },
            { actorName: 'Police', actorType: 'state_security', attribution: 'alleged_by_victim' },
          ],
          sources: [
            { title: 'Report', url: 'https://example.org/a', kind: 'media_report', public: true },
            { title: 'Statement', url: null, kind: 'official_statement', public: false },
            { title: 'Imported from export.csv, line 2 (native)', kind: 'other', public: false },
          ],
        },
      },
    ]);
  });

  it('needs only the required columns; a missing list means unknown, sources private and of kind "other"', () => {
    const plan = planRow({ source_titles: 'Report' }, [
      'title',
      'date_precision',
      'date_start',
      'date_end',
      'country',
      'attack_types',
      'source_titles',
    ]);
    expect(plan.valid[0]!.input).toMatchObject({
      description: null,
      internalNotes: null,
      motive: null,
      deathType: null,
      victims: [],
      perpetratorClaims: [],
      location: { region: null, city: null, coordinates: null },
      sources: [{ title: 'Report', url: null, kind: 'other', public: false }, { title: 'Imported from export.csv, line 2 (native)' }],
    });
  });

  it.each([
    ['a day', { date_precision: 'day', date_start: '2024-03-15', date_end: '2024-03-15' }, { precision: 'day', value: '2024-03-15' }],
    ['a month', { date_precision: 'month', date_start: '2024-02-01', date_end: '2024-02-29' }, { precision: 'month', value: '2024-02' }],
    ['a year', { date_precision: 'year', date_start: '2015-01-01', date_end: '2015-12-31' }, { precision: 'year', value: '2015' }],
    [
      'a range',
      { date_precision: 'range', date_start: '2017-09-20', date_end: '2017-09-30' },
      { precision: 'range', from: '2017-09-20', to: '2017-09-30' },
    ],
  ])('turns the stored range of %s back into it', (_name, cells, date) => {
    expect(imported(cells).date).toEqual(date);
  });

  it('counts victims by victim_count, an empty list standing for "all unknown"', () => {
    const victims = imported({ victim_count: '3', victim_names: 'Hala Barakat;;', victim_outcomes: '' }).victims;
    expect(victims.map((victim) => [victim.name, victim.outcome])).toEqual([
      ['Hala Barakat', null],
      [null, null],
      [null, null],
    ]);
  });

  it('imports "name withheld" as a protected victim without a name', () => {
    const [victim] = imported({
      victim_count: '1',
      victim_names: 'name withheld',
      victim_roles: 'journalist',
      victim_protected: 'false',
    }).victims;
    expect(victim).toMatchObject({ name: null, role: 'journalist', protected: true });
  });
});

describe('a native row that cannot be read is rejected, naming the column', () => {
  it.each([
    [
      'a day whose start and end differ',
      { date_start: '2024-03-15', date_end: '2024-03-16' },
      { column: 'date_start', value: '2024-03-15..2024-03-16', reason: 'a day has the same date_start and date_end' },
    ],
    [
      'a month from the 5th',
      { date_precision: 'month', date_start: '2024-03-05', date_end: '2024-03-31' },
      { column: 'date_start', value: '2024-03-05..2024-03-31', reason: 'a month runs from its first to its last day' },
    ],
    [
      'a month running into the next',
      { date_precision: 'month', date_start: '2024-03-01', date_end: '2024-04-30' },
      { column: 'date_start', value: '2024-03-01..2024-04-30', reason: 'a month runs from its first to its last day' },
    ],
    [
      'a year short of 12-31',
      { date_precision: 'year', date_start: '2015-01-01', date_end: '2015-12-30' },
      { column: 'date_start', value: '2015-01-01..2015-12-30', reason: 'a year runs from 01-01 to 12-31' },
    ],
    [
      'a list longer than victim_count',
      { victim_count: '1', victim_names: 'A;B' },
      { column: 'victim_names', value: 'A;B', reason: 'has 2 items separated by ";" where 1 are expected' },
    ],
    [
      'victim lists of different lengths',
      { victim_names: 'A;B', victim_roles: 'journalist' },
      { column: 'victim_roles', value: 'journalist', reason: 'has 1 items separated by ";" where 2 are expected' },
    ],
    [
      'source lists of different lengths',
      { source_titles: 'One;Two', source_urls: 'https://example.org/a' },
      { column: 'source_urls', value: 'https://example.org/a', reason: 'has 1 items separated by ";" where 2 are expected' },
    ],
    [
      'a victim_count that is not a whole number',
      { victim_count: '1.5' },
      { column: 'victim_count', value: '1.5', reason: 'not a whole number' },
    ],
    [
      'victim_protected that is not true or false',
      { victim_names: 'A', victim_protected: 'maybe' },
      { column: 'victim_protected', value: 'maybe', reason: 'use true or false' },
    ],
    [
      'a perpetrator without type and attribution',
      { perpetrators: 'Police' },
      { column: 'perpetrators', value: 'Police', reason: 'expected "Name (actor_type, attribution)"' },
    ],
    [
      'a longitude without a latitude',
      { longitude: '36.8' },
      { column: 'latitude', value: ', 36.8', reason: 'give both latitude and longitude as decimal numbers' },
    ],
  ])('%s', (_name, cells, error) => {
    expect(rejected(cells)).toEqual([error]);
  });

  it('names date_precision for an unknown precision', () => {
    // The schema then also misses the date, and reports it under date_start (a column not yet named).
    expect(rejected({ date_precision: 'week' })).toContainEqual({
      column: 'date_precision',
      value: 'week',
      reason: 'expected day, month, year or range',
    });
  });

  it('names the column for what the incident schema refuses', () => {
    expect(rejected({ victim_names: 'A', victim_genders: 'unknown' })).toEqual([
      { column: 'victim_genders', value: 'unknown', reason: expect.stringMatching(/^victims\.0\.gender: Invalid option/) },
    ]);
    expect(rejected({ date_precision: 'range', date_start: '2017-09-30', date_end: '2017-09-20' })).toEqual([
      { column: 'date_start', value: '2017-09-30', reason: 'date.to: "from" must not be after "to"' },
    ]);
    expect(rejected({ attack_types: '' })).toEqual([{ column: 'attack_types', reason: 'attackTypes: give at least one attack type' }]);
  });

  it('refuses a file without the required columns, naming what is missing', () => {
    const error = (() => {
      try {
        planImport('title,country\nA,TR\n', { format: 'native', fileName: 'x.csv' });
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors[0]!.detail).toBe(
      "this does not look like Dateline's CSV export: expected columns title, date_precision, date_start, date_end, country, attack_types… (missing date_precision, date_start, date_end, attack_types), found title, country",
    );
  });
});
