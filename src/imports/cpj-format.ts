import type { CsvRecord } from './csv-records.ts';
import { countryCodeFor, normaliseName } from './country-names.ts';
import { columnResolver, lookupLabel, rowErrors, type ImportFormat, type RowErrors } from './import-format.ts';

/**
 * The Committee to Protect Journalists' public export of killed journalists: one row is one
 * victim and becomes one incident. The full mapping, with the reasons for each choice, is in
 * src/imports/README.md. CPJ's own values, "N/A" and "Unknown" included, import as what they
 * mean (an unclassified death, no motive classification, an unknown employment), so that
 * statistics reproduce CPJ's own tallies of the file. Every CPJ column that has no field of its
 * own is kept word for word in the description, so nothing CPJ recorded is lost. Only a row that
 * is really broken is rejected: shifted columns (a number in the gender column, a wrong cell
 * count), a missing year or name, or a label CPJ does not use.
 */
export const CPJ_COLUMNS = [
  'year',
  'combinedStatus',
  'fullName',
  'sortName',
  'primaryNationality',
  'secondaryNationality',
  'tertiaryNationality',
  'gender',
  'type',
  'lastStatus',
  'typeOfDeath',
  'status',
  'employedAs',
  'organizations',
  'jobs',
  'coverage',
  'mediums',
  'country',
  'location',
  'region',
  'state',
  'locality',
  'province',
  'localOrForeign',
  'sourcesOfFire',
  'motiveConfirmed',
  'accountabilityCrossfire',
  'accountabilityAssignment',
  'impunityMurder',
  'tortured',
  'captive',
  'threatened',
  'charges',
  'motive',
  'lengthOfSentence',
  'healthProblems',
  'impCountry',
  'entry',
  'sentenceDate',
  'sentence',
  'locationImprisoned',
  'Type of journalist',
] as const;

/** Columns that become fields exactly; all other non-empty columns go into the description. */
const FIELD_COLUMNS = new Set([
  'year',
  'fullName',
  'primaryNationality',
  'gender',
  'type',
  'employedAs',
  'organizations',
  'country',
  'location',
  'state',
  'localOrForeign',
  'sourcesOfFire',
  'motiveConfirmed',
  'typeOfDeath',
  'impunityMurder',
]);

const UNNAMED = new Set(['[full name unavailable]', 'full name unavailable', 'unidentified', 'unknown', 'name unavailable']);

/** CPJ writes "N/A" where a classification does not apply or was not made: no value, never a guess. */
const NOT_APPLICABLE = { 'n/a': null, na: null } as const;
const GENDERS = { male: 'male', female: 'female', 'non binary': 'non_binary', other: 'other', unknown: null, ...NOT_APPLICABLE } as const;
const ROLES = { journalist: 'journalist', 'media worker': 'media_worker', 'media workers': 'media_worker' } as const;
const EMPLOYMENTS = { staff: 'staff', freelance: 'freelance', freelancer: 'freelance', unknown: null, ...NOT_APPLICABLE } as const;
const LOCALITIES = { local: 'local', foreign: 'foreign', unknown: null, ...NOT_APPLICABLE } as const;
/** "N/A": media workers, whom CPJ lists without a motive classification. */
const MOTIVES = { confirmed: 'work_related_confirmed', unconfirmed: 'work_related_unconfirmed', ...NOT_APPLICABLE } as const;
/** CPJ's "complete impunity" means nobody was convicted, not that nobody investigated: see README. */
const IMPUNITY = {
  'complete impunity': 'no_conviction',
  'partial impunity': 'partial_justice',
  'partial justice': 'partial_justice',
  'full justice': 'full_justice',
  ...NOT_APPLICABLE,
} as const;
/** "N/A": killed, but CPJ has not classified the death (its motive is unconfirmed). */
const DEATH_TYPES = {
  murder: 'murder',
  crossfire: 'crossfire',
  'dangerous assignment': 'dangerous_assignment',
  unknown: 'unknown',
  'n/a': 'unclassified',
  na: 'unclassified',
} as const;
const SOURCES_OF_FIRE = {
  'criminal group': 'criminal_group',
  'government officials': 'government_official',
  'military officials': 'military',
  'paramilitary group': 'non_state_armed_group',
  'political group': 'political_group',
  'local residents': 'private_individual',
  'mob violence': 'private_individual',
  'unknown fire': 'unknown',
  unknown: 'unknown',
  ...NOT_APPLICABLE,
} as const;

const CPJ_SOURCE = {
  url: 'https://cpj.org/data/',
  publisher: 'Committee to Protect Journalists',
  title: 'CPJ database of journalists and media workers killed',
  kind: 'ngo_report',
  public: true,
} as const;

/** CPJ files killings in Israel, Gaza and the West Bank under one name; the place says which. */
const ISRAEL_AND_OPT = /^israel and (the )?occupied palestinian territor/;
const PALESTINIAN_PLACES =
  /gaza|west bank|khan y[ou]nis|rafah|jabalia|beit lahi?ya|beit hanoun|deir al-balah|nuseirat|jenin|nablus|hebron|ramallah|tulkarm|bethlehem|qalqilya|jericho/i;
const ISRAELI_PLACES = /tel aviv|haifa|ashkelon|ashdod|sderot|beersheba|be'er sheva|netanya|eilat|nazareth|tiberias/i;

/**
 * The country of a country cell. CPJ's "Israel and the Occupied Palestinian Territory" is split
 * by the place: Israel for a town in Israel, Palestine otherwise (Gaza, the West Bank, East
 * Jerusalem, or a place CPJ does not name: nearly all of CPJ's cases there). A reader adding
 * IL and PS gets CPJ's own figure back; the CPJ label is kept in the description.
 */
function country(errors: RowErrors, record: CsvRecord, column: string): string | undefined {
  const raw = record.cell(column);
  if (!raw) return undefined;
  const code = countryCodeFor(raw);
  if (code) return code;
  if (ISRAEL_AND_OPT.test(normaliseName(raw))) {
    const place = ['location', 'locality', 'state', 'province'].map((name) => record.cell(name)).join(' ');
    return ISRAELI_PLACES.test(place) && !PALESTINIAN_PLACES.test(place) ? 'IL' : 'PS';
  }
  errors.add(column, 'not a country name this import knows (English names, ISO 3166-1 or ISO 3166-3 codes)', raw);
  return undefined;
}

function gender(errors: RowErrors, raw: string) {
  if (/^\s*-?\d+([.,]\d+)?\s*$/.test(raw)) {
    errors.add('gender', 'a number in the gender column: the columns of this row look shifted', raw);
    return undefined;
  }
  return lookupLabel(errors, 'gender', raw, GENDERS, 'Male or Female');
}

function perpetratorClaims(errors: RowErrors, raw: string) {
  const labels = [
    ...new Set(
      raw
        .split(',')
        .map((label) => label.trim())
        .filter(Boolean),
    ),
  ];
  return labels.flatMap((label) => {
    const actorType = lookupLabel(
      errors,
      'sourcesOfFire',
      label,
      SOURCES_OF_FIRE,
      'Criminal Group, Government Officials, Military Officials, Paramilitary Group, Political Group, Local Residents, Mob Violence or Unknown Fire',
    );
    if (!actorType) return [];
    return [{ actorName: label, actorType, attribution: 'alleged_by_others', attributedBy: 'Committee to Protect Journalists' }];
  });
}

/** "Momand, Abdul Ahad" is only the sort form of "Abdul Ahad Momand"; anything else is an alias. */
function aliasFrom(sortName: string, name: string | null): string[] {
  if (!sortName || !name) return [];
  const [last, first] = sortName.split(/,\s*/, 2);
  const reordered = first ? `${first} ${last}` : sortName;
  return normaliseName(reordered) === normaliseName(name) || normaliseName(sortName) === normaliseName(name) ? [] : [sortName];
}

function convert(record: CsvRecord) {
  const errors = rowErrors();
  const cell = (column: string) => record.cell(column);

  const year = cell('year');
  if (!/^\d{4}$/.test(year)) errors.add('year', year ? 'not a four-digit year' : 'the year is missing', year);
  const rawName = cell('fullName');
  // CPJ writes "[full name unavailable]" for an unnamed victim; an empty cell is a broken row.
  if (!rawName) errors.add('fullName', 'the name is missing (CPJ writes "[full name unavailable]" for an unnamed victim)');
  const name = UNNAMED.has(rawName.toLowerCase()) ? null : rawName || null;
  const where = country(errors, record, 'country');
  if (!cell('country')) errors.add('country', 'the country is missing');
  const role = lookupLabel(errors, 'type', cell('type'), ROLES, 'Journalist or Media Worker');
  const deathType = lookupLabel(
    errors,
    'typeOfDeath',
    cell('typeOfDeath'),
    DEATH_TYPES,
    'Murder, Crossfire, Dangerous Assignment, Unknown or N/A',
  );
  const killed = deathType || /killed/i.test(`${cell('status')} ${cell('combinedStatus')}`);
  if (deathType === null && !killed) {
    errors.add('typeOfDeath', 'no type of death and the status is not "Killed": this format reads the CPJ export of killed journalists');
  }

  const cpjCountry = ISRAEL_AND_OPT.test(normaliseName(cell('country'))) ? [`CPJ country: ${cell('country')}`] : [];
  const context = [
    ...cpjCountry,
    ...CPJ_COLUMNS.filter((column) => !FIELD_COLUMNS.has(column) && cell(column)).map((column) => `${column}: ${cell(column)}`),
  ];
  const who = name ?? `Unidentified ${role === 'media_worker' ? 'media worker' : 'journalist'}`;
  const incident = {
    title: `${who} killed in ${cell('country')}`,
    description: ['Recorded by the Committee to Protect Journalists (CPJ).', ...context].join('\n'),
    date: { precision: 'year', value: year },
    location: { country: where, region: cell('state') || cell('province') || null, city: cell('location') || cell('locality') || null },
    attackTypes: ['killing'],
    motive: lookupLabel(errors, 'motiveConfirmed', cell('motiveConfirmed'), MOTIVES, 'Confirmed, Unconfirmed or N/A'),
    judicialOutcome: lookupLabel(
      errors,
      'impunityMurder',
      cell('impunityMurder'),
      IMPUNITY,
      'Complete Impunity, Partial Impunity or Full Justice',
    ),
    deathType: deathType ?? (killed ? 'unclassified' : null),
    victims: [
      {
        name,
        aliases: aliasFrom(cell('sortName'), name),
        role,
        gender: gender(errors, cell('gender')),
        nationality: country(errors, record, 'primaryNationality') ?? null,
        outlet: cell('organizations') || null,
        locality: lookupLabel(errors, 'localOrForeign', cell('localOrForeign'), LOCALITIES, 'Local or Foreign'),
        employment: lookupLabel(errors, 'employedAs', cell('employedAs'), EMPLOYMENTS, 'Staff or Freelance'),
        outcome: 'killed',
      },
    ],
    perpetratorClaims: perpetratorClaims(errors, cell('sourcesOfFire')),
    sources: [CPJ_SOURCE],
  };
  return { incident, errors: errors.errors };
}

export const cpjFormat: ImportFormat = {
  requiredColumns: ['year', 'fullName', 'country'],
  readsColumn: (column) => (CPJ_COLUMNS as readonly string[]).includes(column),
  convert,
  columnOf: columnResolver(
    {
      title: 'fullName',
      description: 'fullName',
      date: 'year',
      'location.country': 'country',
      'location.region': 'state',
      'location.city': 'location',
      attackTypes: 'typeOfDeath',
      deathType: 'typeOfDeath',
      motive: 'motiveConfirmed',
      judicialOutcome: 'impunityMurder',
      'victims.*.name': 'fullName',
      'victims.*.aliases': 'sortName',
      'victims.*.role': 'type',
      'victims.*.gender': 'gender',
      'victims.*.nationality': 'primaryNationality',
      'victims.*.outlet': 'organizations',
      'victims.*.locality': 'localOrForeign',
      'victims.*.employment': 'employedAs',
      perpetratorClaims: 'sourcesOfFire',
    },
    '(row)',
  ),
};
