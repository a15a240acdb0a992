import { normalizeForSearch } from '../src/incidents/search-text.ts';

/**
 * The small word lists the synthetic dataset is drawn from. Everything that ends up in
 * search_text is normalised here, in JS, with the app's own normalizeForSearch, so the SQL only
 * joins pre-normalised pieces with spaces (the normaliser works word by word, so the join of the
 * normalised pieces is the normalised join). `weighted` lists repeat an index by its weight, so
 * SQL picks one with `list[1 + floor(random() * length)]`.
 */
type Weights<K extends string> = Record<K, number>;

function weighted<K extends string>(weights: Weights<K>): K[] {
  return Object.entries<number>(weights).flatMap(([key, weight]) => Array<K>(weight).fill(key as K));
}

/** 1-based positions of `values` in `list`, repeated by weight. */
function weightedIndexes(list: readonly string[], weights: Record<string, number>): number[] {
  return Object.entries(weights).flatMap(([key, weight]) => Array<number>(weight).fill(list.indexOf(key) + 1));
}

// Country, share of incidents, and cities with approximate coordinates.
const PLACES: Array<
  [country: string, name: string, weight: number, cities: Array<[city: string, region: string, lat: number, lon: number]>]
> = [
  [
    'MX',
    'Mexico',
    12,
    [
      ['Culiacán', 'Sinaloa', 24.8, -107.39],
      ['Tijuana', 'Baja California', 32.51, -117.04],
      ['Veracruz', 'Veracruz', 19.17, -96.13],
      ['Acapulco', 'Guerrero', 16.85, -99.82],
    ],
  ],
  [
    'SY',
    'Syria',
    10,
    [
      ['Aleppo', 'Aleppo', 36.2, 37.16],
      ['Damascus', 'Damascus', 33.51, 36.29],
      ['Deir ez-Zor', 'Deir ez-Zor', 35.33, 40.14],
      ['Idlib', 'Idlib', 35.93, 36.63],
    ],
  ],
  [
    'TR',
    'Turkey',
    8,
    [
      ['Istanbul', 'Istanbul', 41.01, 28.98],
      ['Gaziantep', 'Gaziantep', 37.07, 37.38],
      ['Şanlıurfa', 'Şanlıurfa', 37.16, 38.79],
      ['Diyarbakır', 'Diyarbakır', 37.91, 40.24],
    ],
  ],
  [
    'UA',
    'Ukraine',
    7,
    [
      ['Kyiv', 'Kyiv', 50.45, 30.52],
      ['Kharkiv', 'Kharkiv', 49.99, 36.23],
      ['Mariupol', 'Donetsk', 47.1, 37.55],
    ],
  ],
  [
    'PH',
    'Philippines',
    7,
    [
      ['Manila', 'Metro Manila', 14.6, 120.98],
      ['Davao', 'Davao', 7.07, 125.61],
      ['Cebu', 'Central Visayas', 10.32, 123.89],
    ],
  ],
  [
    'IN',
    'India',
    7,
    [
      ['New Delhi', 'Delhi', 28.61, 77.21],
      ['Srinagar', 'Jammu and Kashmir', 34.08, 74.8],
      ['Bengaluru', 'Karnataka', 12.97, 77.59],
    ],
  ],
  [
    'PK',
    'Pakistan',
    6,
    [
      ['Karachi', 'Sindh', 24.86, 67.0],
      ['Peshawar', 'Khyber Pakhtunkhwa', 34.01, 71.58],
      ['Quetta', 'Balochistan', 30.18, 66.97],
    ],
  ],
  [
    'BR',
    'Brazil',
    6,
    [
      ['São Paulo', 'São Paulo', -23.55, -46.63],
      ['Rio de Janeiro', 'Rio de Janeiro', -22.91, -43.17],
      ['Manaus', 'Amazonas', -3.12, -60.02],
    ],
  ],
  [
    'IQ',
    'Iraq',
    6,
    [
      ['Baghdad', 'Baghdad', 33.31, 44.36],
      ['Mosul', 'Nineveh', 36.34, 43.13],
      ['Basra', 'Basra', 30.51, 47.78],
    ],
  ],
  ['AF', 'Afghanistan', 4, [['Kabul', 'Kabul', 34.53, 69.17]]],
  ['PS', 'Palestine', 4, [['Gaza', 'Gaza', 31.5, 34.47]]],
  ['RU', 'Russia', 3, [['Moscow', 'Moscow', 55.76, 37.62]]],
  ['CO', 'Colombia', 3, [['Cali', 'Valle del Cauca', 3.45, -76.53]]],
  ['HN', 'Honduras', 2, []],
  ['SO', 'Somalia', 2, []],
  ['YE', 'Yemen', 2, []],
  ['EG', 'Egypt', 2, []],
  ['BD', 'Bangladesh', 2, []],
  ['NG', 'Nigeria', 2, []],
  ['IR', 'Iran', 2, []],
  ['CN', 'China', 1, []],
  ['SA', 'Saudi Arabia', 1, []],
  ['LB', 'Lebanon', 1, []],
  ['LY', 'Libya', 1, []],
  ['US', 'United States', 1, []],
];

const places = PLACES.flatMap(([country, name, weight, cities]) => [
  // A third of a country's incidents have no city, the rest are spread over its cities.
  { country, city: null, region: null, lat: null, lon: null, label: name, weight: cities.length ? weight : weight * 3 },
  ...cities.map(([city, region, lat, lon]) => ({ country, city, region, lat, lon, label: city, weight: (weight * 2) / cities.length })),
]);
// Scale weights to whole numbers: about 300 entries in the pick list.
const placeWeights = places.map((place) => Math.max(1, Math.round(place.weight * 2)));

const ATTACK_TITLES: Record<string, string> = {
  killing: 'Journalist killed',
  attempted_killing: 'Journalist survives shooting',
  physical_assault: 'Reporter beaten',
  abduction: 'Journalist abducted',
  enforced_disappearance: 'Journalist disappeared',
  arrest_detention: 'Journalist detained',
  threat_harassment: 'Reporter threatened',
  online_harassment: 'Online smear campaign against reporter',
  legal_action: 'Journalist prosecuted',
  surveillance_hacking: "Spyware found on reporter's phone",
  equipment_damage_seizure: "Camera crew's equipment seized",
  denial_of_access: 'Press denied access',
  expulsion_travel_ban: 'Correspondent expelled',
  fabricated_claim: 'Fabricated charges against journalist',
  other: 'Incident involving journalist',
};
const attacks = Object.keys(ATTACK_TITLES);
const ATTACK_WEIGHTS = {
  killing: 8,
  attempted_killing: 4,
  physical_assault: 14,
  abduction: 4,
  enforced_disappearance: 2,
  arrest_detention: 16,
  threat_harassment: 16,
  online_harassment: 10,
  legal_action: 10,
  surveillance_hacking: 3,
  equipment_damage_seizure: 6,
  denial_of_access: 4,
  expulsion_travel_ban: 2,
  fabricated_claim: 1,
  other: 2,
};
/** What usually happened to the first victim of each attack type (null: drawn at random). */
const ATTACK_OUTCOMES: Record<string, string | null> = {
  killing: 'killed',
  attempted_killing: 'injured',
  physical_assault: 'injured',
  abduction: 'abducted',
  enforced_disappearance: 'missing',
  arrest_detention: 'detained',
  threat_harassment: 'threatened',
};

// [latin, gender, original script or null]
const FIRST_NAMES: Array<[string, 'female' | 'male', string | null]> = [
  ['Mohammed', 'male', 'محمد'],
  ['Muhammad', 'male', 'محمد'],
  ['Ahmad', 'male', 'أحمد'],
  ['Abd al-Qader', 'male', 'عبد القادر'],
  ['Abdul Rahman', 'male', 'عبد الرحمن'],
  ['Abdelkader', 'male', 'عبد القادر'],
  ['Omar', 'male', 'عمر'],
  ['Fares', 'male', 'فارس'],
  ['Ibrahim', 'male', 'إبراهيم'],
  ['Naji', 'male', 'ناجي'],
  ['Yusuf', 'male', 'يوسف'],
  ['Hala', 'female', 'هالة'],
  ['Halla', 'female', 'هالة'],
  ['Orouba', 'female', 'عروبة'],
  ['Rania', 'female', 'رانيا'],
  ['Layla', 'female', 'ليلى'],
  ['Shireen', 'female', 'شيرين'],
  ['Fatima', 'female', 'فاطمة'],
  ['José', 'male', null],
  ['Javier', 'male', null],
  ['Miroslava', 'female', null],
  ['María', 'female', null],
  ['Lourdes', 'female', null],
  ['Carlos', 'male', null],
  ['Mehmet', 'male', null],
  ['Ayşe', 'female', null],
  ['Hrant', 'male', null],
  ['Oleksandr', 'male', null],
  ['Viktoriia', 'female', null],
  ['Anna', 'female', null],
  ['Percy', 'male', null],
  ['Gerardo', 'male', null],
  ['Gauri', 'female', null],
  ['Ravi', 'male', null],
  ['Saleem', 'male', null],
  ['Arshad', 'male', null],
  ['Ayesha', 'female', null],
  ['Dom', 'male', null],
  ['Vladimir', 'male', null],
  ['Daphne', 'female', null],
];
const LAST_NAMES: Array<[string, string | null]> = [
  ['Barakat', 'بركات'],
  ['Barakāt', 'بركات'],
  ['Al-Hussein', 'الحسين'],
  ['Haddad', 'حداد'],
  ['Hamadi', 'حمادي'],
  ['Jerf', 'جرف'],
  ['Khalil', 'خليل'],
  ['Mansour', 'منصور'],
  ['Abu Akleh', 'أبو عاقلة'],
  ['Al-Masri', 'المصري'],
  ['Qassem', 'قاسم'],
  ['Kassem', 'قاسم'],
  ['Hernández', null],
  ['Valdez', null],
  ['Breach', null],
  ['Dink', null],
  ['Yılmaz', null],
  ['Kaya', null],
  ['Shevchenko', null],
  ['Kovalenko', null],
  ['Lapid', null],
  ['Mabasa', null],
  ['Lankesh', null],
  ['Shahzad', null],
  ['Sharif', null],
  ['Phillips', null],
  ['Lopes', null],
  ['Silva', null],
  ['Caruana Galizia', null],
  ['Politkovskaya', null],
];
const OUTLETS = [
  'Al Jazeera',
  'Orient News',
  'Riodoce',
  'La Jornada',
  'Cumhuriyet',
  'Ukrainska Pravda',
  'Rappler',
  'The Wire',
  'Dawn',
  'Folha de S.Paulo',
  'Rudaw',
  'Freelance',
  'Radio Free Europe',
  'Enab Baladi',
  'Zaman al-Wasl',
];
const ACTORS: Array<[string, string]> = [
  ['Islamic State', 'non_state_armed_group'],
  ['Sinaloa Cartel', 'criminal_group'],
  ['Jalisco New Generation Cartel', 'criminal_group'],
  ['National Police', 'police'],
  ['Army', 'military'],
  ['Unknown gunmen', 'unknown'],
  ['State security services', 'state_security'],
  ['Local mayor', 'government_official'],
  ['Ruling party supporters', 'political_group'],
  ['A neighbour', 'private_individual'],
  ['Russian armed forces', 'military'],
  ['Taliban', 'non_state_armed_group'],
  ['Regime agents', 'state_security'],
];
const DESCRIPTIONS = [
  'Reported by local press freedom groups; details are still being gathered.',
  'Colleagues said the attack followed reporting on local corruption.',
  'The victim had received threats in the weeks before.',
  'Witnesses described the attackers to local media.',
];
const PUBLISHERS = ['Reuters', 'AFP', 'Associated Press', 'CPJ', 'RSF', 'IFJ', 'Amnesty International', 'Local newspaper'];

const norm = (values: readonly (string | null)[]) => values.map((value) => (value === null ? null : normalizeForSearch(value)));

/** Every list, as the columns of the one-row table `dict` the generator cross joins. */
export const dictionary = {
  place_pick: places.flatMap((_, index) => Array<number>(placeWeights[index]!).fill(index + 1)),
  place_country: places.map((place) => place.country),
  place_city: places.map((place) => place.city),
  place_region: places.map((place) => place.region),
  place_lat: places.map((place) => place.lat),
  place_lon: places.map((place) => place.lon),
  place_label: places.map((place) => place.label),
  place_norm: norm(places.map((place) => place.label)),
  attack: attacks,
  attack_pick: weightedIndexes(attacks, ATTACK_WEIGHTS),
  attack_title: attacks.map((attack) => ATTACK_TITLES[attack]!),
  attack_norm: norm(attacks.map((attack) => ATTACK_TITLES[attack]!)),
  attack_outcome: attacks.map((attack) => ATTACK_OUTCOMES[attack] ?? null),
  first: FIRST_NAMES.map(([name]) => name),
  first_gender: FIRST_NAMES.map(([, gender]) => gender),
  first_original: FIRST_NAMES.map(([, , original]) => original),
  last: LAST_NAMES.map(([name]) => name),
  last_original: LAST_NAMES.map(([, original]) => original),
  // A victim's searchable name is first + last, and the original only when both parts have one.
  first_norm: norm(FIRST_NAMES.map(([name]) => name)),
  first_original_norm: norm(FIRST_NAMES.map(([, , original]) => original)),
  last_norm: norm(LAST_NAMES.map(([name]) => name)),
  last_original_norm: norm(LAST_NAMES.map(([, original]) => original)),
  outlet: OUTLETS,
  outlet_norm: norm(OUTLETS),
  actor: ACTORS.map(([name]) => name),
  actor_type: ACTORS.map(([, type]) => type),
  actor_norm: norm(ACTORS.map(([name]) => name)),
  description: DESCRIPTIONS,
  description_norm: norm(DESCRIPTIONS),
  publisher: PUBLISHERS,
  role_pick: weighted({
    journalist: 55,
    media_worker: 10,
    citizen_journalist: 10,
    activist: 12,
    human_rights_defender: 8,
    filmmaker: 3,
    other: 2,
  }),
  outcome_pick: weighted({ injured: 3, threatened: 4, unharmed: 2, detained: 1, other: 1 }),
  status_pick: weighted({ verified: 50, unverified: 25, under_review: 12, disputed: 8, debunked: 5 }),
  motive_pick: [...weighted({ work_related_confirmed: 25, work_related_unconfirmed: 30, unrelated: 5 }), ...Array<null>(40).fill(null)],
  judicial_pick: [
    ...weighted({ no_investigation: 20, investigation_open: 12, suspects_charged: 6, partial_justice: 4, full_justice: 2, unknown: 6 }),
    ...Array<null>(50).fill(null),
  ],
  attribution_pick: weighted({
    claimed_by_perpetrator: 5,
    alleged_by_victim: 30,
    alleged_by_authorities: 10,
    alleged_by_others: 20,
    suspected_by_documenter: 30,
    established_by_court: 5,
  }),
  source_kind_pick: weighted({
    media_report: 50,
    ngo_report: 20,
    official_statement: 8,
    court_record: 4,
    witness_statement: 6,
    video: 4,
    social_media: 6,
    other: 2,
  }),
};

export type Dictionary = typeof dictionary;

/** Organisations documenting incidents, with their share of the incidents. */
export const ORGANISATIONS: Array<[name: string, weight: number]> = [
  ['Press Freedom Watch', 40],
  ['Syrian Journalists Network', 20],
  ['Mexican Reporters Alliance', 15],
  ['Asia Media Monitor', 15],
  ['Independent Research Collective', 10],
];

/** A name for the search scenario: two spellings of it reduce to the same key. */
export const SEARCH_NAME = 'Abdulkader Barakat';
