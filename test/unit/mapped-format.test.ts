import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { planImport } from '../../src/imports/import-plan.ts';
import { importMappingSchema } from '../../src/imports/mapping.schema.ts';

/**
 * A tracker's own CSV read through a mapping (src/imports/README.md, "mapped"), without a
 * database: one row becomes the body POST /v1/incidents would take, and a cell the mapping
 * cannot read rejects the row naming its column and value. Over HTTP: test/imports-formats.test.ts.
 */
const mapping = importMappingSchema.parse({
  title: { template: 'Attack on {Journalist (Outlet)}' },
  description: { columns: ['Summary', 'Notes'] },
  internalNotes: { columns: ['Contact'] },
  date: { column: 'Date', formats: ['DD/MM/YYYY', 'YYYY-MM'], exactDateUnknown: { column: 'Exact date unknown' } },
  country: { column: 'Country', values: { 'Estados Unidos': 'US' } },
  region: { column: 'State' },
  city: { column: 'City' },
  coordinates: { latitude: 'Lat', longitude: 'Lon', precision: 'city' },
  attackTypes: { column: 'Type', separator: '|', values: { Murder: 'killing', 'Kidnap and murder': ['abduction', 'killing'] } },
  motive: { column: 'Motive', values: { Confirmed: 'work_related_confirmed' } },
  judicialOutcome: { value: 'unknown' },
  victims: {
    column: 'Journalist (Outlet)',
    separator: ';',
    pattern: 'name (outlet)',
    role: { value: 'journalist' },
    gender: { column: 'Gender', values: { M: 'male', F: 'female' } },
  },
  perpetrators: { column: 'Perpetrator', separator: ',', actorTypes: { 'State police': 'police' }, attribution: 'alleged_by_victim' },
  sources: { urlColumn: 'Links', titleColumn: 'Headlines', separator: ' ', public: true },
});

const COLUMNS = [
  'Date',
  'Exact date unknown',
  'Journalist (Outlet)',
  'Gender',
  'Country',
  'State',
  'City',
  'Lat',
  'Lon',
  'Type',
  'Motive',
  'Perpetrator',
  'Links',
  'Headlines',
  'Summary',
  'Notes',
  'Contact',
];
/** A row that imports cleanly; each test changes the cells it is about. */
const GOOD: Record<string, string> = {
  Date: '15/03/2021',
  'Journalist (Outlet)': 'Ana Díaz (Radio Sur)',
  Country: 'Mexico',
  Type: 'Murder',
};

const quote = (cell: string) => (/[",\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);
/** The plan of a one-row file: the header, then the cells by column name (every other cell empty). */
function planRow(cells: Record<string, string>, extraColumns: string[] = []) {
  const columns = [...COLUMNS, ...extraColumns];
  const row = { ...GOOD, ...cells };
  const csv = `${columns.map(quote).join(',')}\n${columns.map((column) => quote(row[column] ?? '')).join(',')}\n`;
  return planImport(csv, { format: 'mapped', fileName: 'tracker.csv', mapping });
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

describe('a mapped row', () => {
  it('becomes an incident body, field by field', () => {
    const plan = planRow(
      {
        'Journalist (Outlet)': 'Ana Díaz (Radio Sur); Luis Pérez (El Diario)',
        Gender: 'F;M',
        Country: 'Estados Unidos',
        State: 'Texas',
        City: 'El Paso',
        Lat: '31,76',
        Lon: '-106.49',
        Type: 'Kidnap and murder|threat_harassment',
        Motive: 'Confirmed',
        Perpetrator: 'State police, Unknown gang',
        Links: 'https://example.org/a https://example.org/b',
        Headlines: 'A B',
        Summary: 'Two attacked.',
        Contact: 'Call the desk',
      },
      ['Extra'],
    );
    expect(plan).toMatchObject({ rowCount: 1, rejected: [], ignoredColumns: ['Extra'] });
    expect(plan.valid[0]).toEqual({
      line: 2,
      input: {
        title: 'Attack on Ana Díaz (Radio Sur); Luis Pérez (El Diario)',
        description: 'Summary: Two attacked.',
        internalNotes: 'Contact: Call the desk',
        date: { precision: 'day', value: '2021-03-15' },
        location: {
          country: 'US',
          region: 'Texas',
          city: 'El Paso',
          coordinates: { latitude: 31.76, longitude: -106.49, precision: 'city' },
        },
        attackTypes: ['abduction', 'killing', 'threat_harassment'],
        motive: 'work_related_confirmed',
        judicialOutcome: 'unknown',
        victims: [
          { name: 'Ana Díaz', aliases: [], role: 'journalist', gender: 'female', outlet: 'Radio Sur', outcome: null, protected: false },
          { name: 'Luis Pérez', aliases: [], role: 'journalist', gender: 'male', outlet: 'El Diario', outcome: null, protected: false },
        ],
        perpetratorClaims: [
          { actorName: 'State police', actorType: 'police', attribution: 'alleged_by_victim', attributedBy: null },
          { actorName: 'Unknown gang', actorType: 'unknown', attribution: 'alleged_by_victim', attributedBy: null },
        ],
        sources: [
          { url: 'https://example.org/a', title: 'A', publisher: null, kind: 'media_report', public: true },
          { url: 'https://example.org/b', title: 'B', publisher: null, kind: 'media_report', public: true },
          { title: 'Imported from tracker.csv, line 2 (mapped)', kind: 'other', public: false },
        ],
      },
    });
  });

  it('leaves out what the row does not say', () => {
    expect(imported({})).toMatchObject({
      description: null,
      internalNotes: null,
      motive: null,
      location: { country: 'MX', region: null, city: null, coordinates: null },
      perpetratorClaims: [],
      sources: [{ title: 'Imported from tracker.csv, line 2 (mapped)', kind: 'other', public: false }],
    });
  });

  it('tries the date formats in order, and cuts the date to a month when "exact date unknown" says so', () => {
    expect(imported({ Date: '2019-11' }).date).toEqual({ precision: 'month', value: '2019-11' });
    expect(imported({ 'Exact date unknown': 'yes' }).date).toEqual({ precision: 'month', value: '2021-03' });
    for (const no of ['no', 'FALSE', '0'])
      expect(imported({ 'Exact date unknown': no }).date).toEqual({ precision: 'day', value: '2021-03-15' });
  });

  it('matches value tables ignoring case and spaces, and takes a cell that already is a code', () => {
    expect(imported({ Type: '  MURDER ' }).attackTypes).toEqual(['killing']);
    expect(imported({ Type: 'physical_assault|Murder|killing' }).attackTypes).toEqual(['physical_assault', 'killing']);
    expect(imported({ Country: 'tr' }).location.country).toBe('TR');
  });

  it('gives every victim the one value of a victim field, or each its own', () => {
    const both = imported({ 'Journalist (Outlet)': 'Ana Díaz (Radio Sur); Luis Pérez', Gender: 'F' });
    expect(both.victims.map((victim) => [victim.name, victim.outlet, victim.gender])).toEqual([
      ['Ana Díaz', 'Radio Sur', 'female'],
      ['Luis Pérez', null, 'female'],
    ]);
  });
});

describe('a mapped row that cannot be read is rejected, naming the column', () => {
  it.each([
    [
      'a value missing from a table',
      { Type: 'Shouting' },
      { column: 'Type', value: 'Shouting', reason: "this value is not in the mapping's values; add it there" },
    ],
    [
      'an unknown country',
      { Country: 'Atlantis' },
      { column: 'Country', value: 'Atlantis', reason: "not a country name or ISO code this import knows; add it to the mapping's values" },
    ],
    [
      'a date in none of the formats',
      { Date: '31/02/2020' },
      { column: 'Date', value: '31/02/2020', reason: 'not a date in the format DD/MM/YYYY or YYYY-MM' },
    ],
    ['a missing date', { Date: '' }, { column: 'Date', reason: 'the date is missing' }],
    [
      'half a coordinate',
      { Lat: '19.5' },
      { column: 'Lat', value: '19.5, ', reason: 'give both latitude and longitude as decimal numbers' },
    ],
    [
      'a victim field with too few values',
      { 'Journalist (Outlet)': 'A; B; C', Gender: 'F;M' },
      { column: 'Gender', value: 'F;M', reason: 'has 2 values for 3 victims' },
    ],
    [
      'titles and links that do not pair',
      { Links: 'https://example.org/a https://example.org/b', Headlines: 'One' },
      { column: 'Headlines', value: 'One', reason: 'has 1 titles for 2 links' },
    ],
  ])('%s', (_name, cells, error) => {
    expect(rejected(cells)).toEqual([error]);
  });

  it('names the column for what the incident schema refuses', () => {
    expect(rejected({ Motive: 'Maybe' })).toEqual([
      {
        column: 'Motive',
        value: 'Maybe',
        reason: expect.stringMatching(/^motive: Invalid option: expected one of "work_related_confirmed"/),
      },
    ]);
    expect(rejected({ Gender: 'X' })).toEqual([
      { column: 'Gender', value: 'X', reason: expect.stringMatching(/^victims\.0\.gender: Invalid option/) },
    ]);
  });

  it('lists every problem of the row, once per column', () => {
    expect(rejected({ Country: 'Atlantis', Type: 'Shouting|Yelling', Date: 'yesterday' }).map((error) => error.column)).toEqual([
      'Date',
      'Country',
      'Type',
      'Type',
    ]);
  });
});

describe('the mapping', () => {
  it('fills in the defaults', () => {
    expect(mapping).toMatchObject({
      delimiter: ',',
      date: { exactDateUnknown: { precision: 'month' } },
      victims: { protected: false },
      perpetrators: { defaultActorType: 'unknown' },
      sources: { kind: 'media_report', public: true },
    });
  });

  it('refuses a file whose header lacks a column it names, before reading any row', () => {
    const header = COLUMNS.filter((column) => column !== 'Gender');
    const csv = `${header.map(quote).join(',')}\n${header.map(() => 'not read').join(',')}\n`;
    const error = (() => {
      try {
        planImport(csv, { format: 'mapped', fileName: 'x.csv', mapping });
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors).toEqual([
      { pointer: '', detail: 'the header has no column "Gender", which the mapped format needs' },
    ]);
  });

  it('reads another delimiter', () => {
    const semicolons = importMappingSchema.parse({
      delimiter: ';',
      title: { column: 'Title' },
      date: { column: 'Date', formats: ['YYYY'] },
      country: { value: 'MX' },
      attackTypes: { value: ['threat_harassment'] },
    });
    const plan = planImport('Title;Date\nThreats, again;2020\n', { format: 'mapped', fileName: 'x.csv', mapping: semicolons });
    expect(plan.valid[0]!.input).toMatchObject({
      title: 'Threats, again',
      date: { precision: 'year', value: '2020' },
      location: { country: 'MX' },
      attackTypes: ['threat_harassment'],
    });
  });

  it.each([
    ['a date format it cannot read', { date: { column: 'Date', formats: ['DD/MM/YY'] } }, ['date', 'formats', 0]],
    ['a code that is not in the taxonomy', { attackTypes: { column: 'Type', values: { Murder: 'murder' } } }, ['attackTypes']],
    ['sources without a column', { sources: { public: true } }, ['sources']],
    ['a key it does not know', { colour: 'red' }, []],
  ])('is refused for %s', (_name, change, path) => {
    const base = {
      title: { column: 'Title' },
      date: { column: 'Date', formats: ['YYYY'] },
      country: { value: 'MX' },
      attackTypes: { value: ['killing'] },
    };
    const result = importMappingSchema.safeParse({ ...base, ...change });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((issue) => issue.path.slice(0, path.length))).toContainEqual(path);
  });
});
