import type { CsvRecord } from './csv-records.ts';
import { countryCodeFor, normaliseName } from './country-names.ts';
import { columnResolver, lookupLabel, rowErrors, type ImportFormat, type RowErrors } from './import-format.ts';

/**
 * The Committee to Protect Journalists' public export of killed journalists: one row is one
 * victim and becomes one incident. The full mapping, with the reasons for each choice, is in
 * src/imports/README.md. Every CPJ column that has no field of its own is kept word for word in
 * the description, so nothing CPJ recorded is lost; values that do not fit a field (a number in
 * the gender column, an unknown label) reject the row instead of being guessed.
 */
export const CPJ_COLUMNS = [
  'year', 'combinedStatus', 'fullName', 'sortName', 'primaryNationality', 'secondaryNationality',
  'tertiaryNationality', 'gender', 'type', 'lastStatus', 'typeOfDeath', 'status', 'employedAs', 'organizations', 'jobs',
  'coverage', 'mediums', 'country', 'location', 'region', 'state', 'locality', 'province', 'localOrForeign',
  'sourcesOfFire', 'motiveConfirmed', 'accountabilityCrossfire', 'accountabilityAssignment', 'impunityMurder',
  'tortured', 'captive', 'threatened', 'charges', 'motive', 'lengthOfSentence', 'healthProblems', 'impCountry', 'entry',
  'sentenceDate', 'sentence', 'locationImprisoned', 'Type of journalist',
] as const;

/** Columns that become fields exactly; all other non-empty columns go into the description. */
const FIELD_COLUMNS = new Set([
  'year', 'fullName', 'primaryNationality', 'gender', 'type', 'employedAs', 'organizations', 'country', 'location', 'state',
  'localOrForeign', 'sourcesOfFire', 'motiveConfirmed',
]);

const UNNAMED = new Set(['[full name unavailable]', 'full name unavailable', 'unidentified', 'unknown', 'name unavailable']);

const GENDERS = { male: 'male', female: 'female', 'non binary': 'non_binary', other: 'other' } as const;
const ROLES = { journalist: 'journalist', 'media worker': 'media_worker', 'media workers': 'media_worker' } as const;
const EMPLOYMENTS = { staff: 'staff', freelance: 'freelance', freelancer: 'freelance', unknown: null } as const;
const LOCALITIES = { local: 'local', foreign: 'foreign' } as const;
const MOTIVES = { confirmed: 'work_related_confirmed', unconfirmed: 'work_related_unconfirmed' } as const;
/** CPJ's "complete impunity" means nobody was convicted, not that nobody investigated: see README. */
const IMPUNITY = {
  'complete impunity': 'unknown', 'partial impunity': 'partial_justice', 'partial justice': 'partial_justice', 'full justice': 'full_justice',
} as const;
const DEATH_TYPES = { murder: 'Murder', crossfire: 'Crossfire', 'dangerous assignment': 'Dangerous Assignment', unknown: 'Unknown' } as const;
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
const PALESTINIAN_PLACES = /gaza|west bank|khan y[ou]nis|rafah|jabalia|deir al-balah|nuseirat|jenin|nablus|hebron|ramallah|tulkarm|bethlehem/i;

function country(errors: RowErrors, record: CsvRecord, column: string): string | undefined {
  const raw = record.cell(column);
  if (!raw) return undefined;
  const code = countryCodeFor(raw);
  if (code) return code;
  if (ISRAEL_AND_OPT.test(normaliseName(raw))) {
    const place = ['location', 'locality', 'state', 'province'].map((name) => record.cell(name)).join(' ');
    if (PALESTINIAN_PLACES.test(place)) return 'PS';
    errors.add(column, 'names Israel and the Palestinian territories together and the location does not say which; correct the country cell', raw);
    return undefined;
  }
  errors.add(column, 'not a country name this import knows (current English names or ISO codes)', raw);
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
  const labels = [...new Set(raw.split(',').map((label) => label.trim()).filter(Boolean))];
  return labels.flatMap((label) => {
    const actorType = lookupLabel(errors, 'sourcesOfFire', label, SOURCES_OF_FIRE, Object.keys(SOURCES_OF_FIRE).join(', '));
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
  const name = UNNAMED.has(rawName.toLowerCase()) ? null : rawName || null;
  const where = country(errors, record, 'country');
  if (!cell('country')) errors.add('country', 'the country is missing');
  const role = lookupLabel(errors, 'type', cell('type'), ROLES, 'Journalist or Media Worker');
  const deathType = lookupLabel(errors, 'typeOfDeath', cell('typeOfDeath'), DEATH_TYPES, 'Murder, Crossfire or Dangerous Assignment');
  const killed = deathType || /killed/i.test(`${cell('status')} ${cell('combinedStatus')}`);
  if (deathType === null && !killed) {
    errors.add('typeOfDeath', 'no type of death and the status is not "Killed": this format reads the CPJ export of killed journalists');
  }

  const context = CPJ_COLUMNS.filter((column) => !FIELD_COLUMNS.has(column) && cell(column)).map((column) => `${column}: ${cell(column)}`);
  const who = name ?? `Unidentified ${role === 'media_worker' ? 'media worker' : 'journalist'}`;
  const incident = {
    title: `${who} killed in ${cell('country')}`,
    description: ['Recorded by the Committee to Protect Journalists (CPJ).', ...context].join('\n'),
    date: { precision: 'year', value: year },
    location: { country: where, region: cell('state') || cell('province') || null, city: cell('location') || cell('locality') || null },
    attackTypes: ['killing'],
    motive: lookupLabel(errors, 'motiveConfirmed', cell('motiveConfirmed'), MOTIVES, 'Confirmed or Unconfirmed'),
    judicialOutcome: lookupLabel(errors, 'impunityMurder', cell('impunityMurder'), IMPUNITY, 'Complete Impunity, Partial Impunity or Full Justice'),
    victims: [{
      name,
      aliases: aliasFrom(cell('sortName'), name),
      role,
      gender: gender(errors, cell('gender')),
      nationality: country(errors, record, 'primaryNationality') ?? null,
      outlet: cell('organizations') || null,
      locality: lookupLabel(errors, 'localOrForeign', cell('localOrForeign'), LOCALITIES, 'Local or Foreign'),
      employment: lookupLabel(errors, 'employedAs', cell('employedAs'), EMPLOYMENTS, 'Staff or Freelance'),
      outcome: 'killed',
    }],
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
      title: 'fullName', description: 'fullName', date: 'year', 'location.country': 'country', 'location.region': 'state',
      'location.city': 'location', attackTypes: 'typeOfDeath', motive: 'motiveConfirmed', judicialOutcome: 'impunityMurder',
      'victims.*.name': 'fullName', 'victims.*.aliases': 'sortName', 'victims.*.role': 'type', 'victims.*.gender': 'gender',
      'victims.*.nationality': 'primaryNationality', 'victims.*.outlet': 'organizations', 'victims.*.locality': 'localOrForeign',
      'victims.*.employment': 'employedAs', perpetratorClaims: 'sourcesOfFire',
    },
    '(row)',
  ),
};
