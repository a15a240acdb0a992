/**
 * Controlled vocabularies. Each code has a one-line definition: the README and the OpenAPI
 * document are generated from these, and the database CHECK constraints (migrations/) hold the
 * same codes, so a value the API accepts is a value the database accepts.
 */
const taxonomy = <const T extends Record<string, string>>(definitions: T) => ({
  definitions,
  codes: Object.keys(definitions) as [keyof T & string, ...(keyof T & string)[]],
});

export const attackTypes = taxonomy({
  killing: 'The victim was killed.',
  attempted_killing: 'An attack meant to kill that the victim survived.',
  physical_assault: 'Beating or other violence short of an attempt to kill.',
  abduction: 'Taken and held by a non-state actor.',
  enforced_disappearance: 'Taken by or with the consent of the state, whereabouts denied.',
  arrest_detention: 'Arrested or held by authorities.',
  threat_harassment: 'Threats, intimidation or harassment offline.',
  online_harassment: 'Threats, doxxing or smear campaigns online.',
  legal_action: 'Lawsuits, prosecution, or legal or administrative harassment.',
  surveillance_hacking: 'Spyware, interception or hacking of accounts or devices.',
  equipment_damage_seizure: 'Equipment, material or premises damaged or seized.',
  denial_of_access: 'Blocked from a place, event or information.',
  expulsion_travel_ban: 'Deported, denied entry or barred from travelling.',
  fabricated_claim:
    'False accusations or fabricated material used against the victim. A staged attack is not this: record it as the attack that was claimed, with verification "debunked".',
  other: 'None of the above; explain in the description.',
});

export const verificationStatuses = taxonomy({
  unverified: 'Logged from a report; not yet checked.',
  under_review: 'Being checked by the documenting organisation.',
  verified: 'Confirmed by the documenting organisation.',
  disputed: 'Credible sources contradict each other.',
  debunked: 'Shown not to have happened as reported (for example, staged).',
});

export const motives = taxonomy({
  work_related_confirmed: 'Confirmed to be a reprisal for journalism or activism.',
  work_related_unconfirmed: 'Possibly work-related; not confirmed.',
  unrelated: "Established to be unrelated to the victim's work.",
});

export const judicialOutcomes = taxonomy({
  no_investigation: 'No investigation opened.',
  investigation_open: 'An investigation is open.',
  suspects_charged: 'Suspects charged; no verdict yet.',
  partial_justice: 'Some perpetrators convicted, but not all (for example, not the masterminds).',
  full_justice: 'Perpetrators and masterminds convicted.',
  unknown: 'Status of any proceedings is unknown.',
  no_conviction:
    'Nobody has been convicted; whether an investigation was opened or suspects charged is not recorded (CPJ\'s "complete impunity").',
});

/**
 * How a killed victim died, in the categories CPJ (and UNESCO after it) count journalists
 * killed by. Set only on incidents whose attack types include a killing.
 */
export const deathTypes = taxonomy({
  murder: 'Deliberately targeted and killed (CPJ: murder).',
  crossfire: 'Killed in crossfire or combat: caught between fighting sides (CPJ: crossfire/combat-related).',
  dangerous_assignment:
    'Killed while covering a dangerous event such as a protest or a bombing, without being its target (CPJ: dangerous assignment).',
  unknown: 'Killed for their work, but how they died is not known (CPJ: unknown).',
  unclassified:
    'Killed, but the documenting organisation has not classified the death, typically because the motive is not confirmed (CPJ: type of death "N/A").',
});

export const victimRoles = taxonomy({
  journalist: 'Reporter, editor, photographer or camera operator.',
  media_worker: 'Support staff: driver, fixer, translator, technician.',
  citizen_journalist: 'Reports without an outlet, often on social media.',
  activist: 'Political or social activist.',
  human_rights_defender: 'Documents or defends human rights.',
  filmmaker: 'Documentary or film maker.',
  other: 'Another role; explain in the description.',
});

export const genders = taxonomy({ female: 'Female.', male: 'Male.', non_binary: 'Non-binary.', other: 'Other.' });

export const localities = taxonomy({
  local: 'Working in their own country.',
  foreign: 'Working in a country not their own.',
  exile: 'Living in exile, working from the country of refuge.',
});

export const employments = taxonomy({ staff: 'Staff of an outlet.', freelance: 'Freelance or independent.' });

export const victimOutcomes = taxonomy({
  killed: 'Killed.',
  injured: 'Injured.',
  detained: 'Detained.',
  abducted: 'Abducted.',
  missing: 'Missing.',
  threatened: 'Threatened but not physically harmed.',
  unharmed: 'Unharmed.',
  other: 'Other; explain in the description.',
});

export const actorTypes = taxonomy({
  state_security: 'Intelligence or security services.',
  military: 'Armed forces.',
  police: 'Police.',
  government_official: 'Government official or politician.',
  non_state_armed_group: 'Armed group not under state control.',
  political_group: 'Political party or movement.',
  criminal_group: 'Organised crime.',
  private_individual: 'A private person.',
  unknown: 'Not known.',
});

export const attributions = taxonomy({
  claimed_by_perpetrator: 'The actor claimed responsibility.',
  alleged_by_victim: 'The victim (or their family) says the actor did it.',
  alleged_by_authorities: 'Officials or investigators say the actor did it.',
  alleged_by_others: 'Colleagues, other groups or media say the actor did it.',
  suspected_by_documenter: 'The documenting organisation suspects the actor.',
  established_by_court: 'A court found the actor responsible.',
});

export const sourceKinds = taxonomy({
  media_report: 'News article or broadcast.',
  ngo_report: 'Report by an NGO or press-freedom group.',
  official_statement: 'Statement by a government or authority.',
  court_record: 'Court filing or judgment.',
  witness_statement: 'Testimony of a witness or the victim.',
  video: 'Video footage.',
  social_media: 'Social media post.',
  other: 'Other.',
});

export const coordinatePrecisions = taxonomy({
  exact: 'The exact spot.',
  approximate: 'Within a few hundred metres.',
  city: 'The city centre stands in for the place.',
  region: 'The region centre stands in for the place.',
  country: 'The country centre stands in for the place.',
});

export const visibilities = taxonomy({
  draft: 'Seen only by the owning organisation and researchers.',
  published: 'Seen by everyone, with confidential details removed.',
});
