import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { z } from 'zod';
import { ownOrganisation, type Actor } from '../auth/actor.ts';
import { ValidationError } from '../errors.ts';
import { victimOpenTo } from './access.queries.ts';
import { countryCodeSchema } from './country.ts';
import { incidentDateInputSchema, toStoredDate } from './incident-date.ts';
import { normalizeForSearch, relevanceText, searchPatterns } from './search-text.ts';
import { queryWordToken } from './sealed-fields.ts';
import {
  actorTypes,
  attackTypes,
  attributions,
  genders,
  judicialOutcomes,
  deathTypes,
  motives,
  verificationStatuses,
  victimOutcomes,
  victimRoles,
} from './taxonomies.ts';

/**
 * The filters shared by the incident list, statistics and exports. Parameters combine with
 * AND; a comma-separated value is an OR within that parameter. Victim filters given together
 * must hold for the same victim ("a journalist who was killed"), and claim filters for the same claim.
 */
const commaList = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item).min(1, 'give at least one value').max(50));
const codes = <T extends { codes: [string, ...string[]] }>(taxonomy: T) => commaList(z.enum(taxonomy.codes));

/** "2015", "2015-10" or "2015-10-27": a bound may be as coarse as the data it filters. */
const dateBound = z
  .string()
  .regex(/^\d{4}(-\d{2}(-\d{2})?)?$/, 'use YYYY, YYYY-MM or YYYY-MM-DD')
  .transform((value, context) => {
    const precision = value.length === 4 ? 'year' : value.length === 7 ? 'month' : 'day';
    const parsed = incidentDateInputSchema.safeParse({ precision, value });
    if (parsed.success) return toStoredDate(parsed.data);
    context.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? 'not a valid date' });
    return z.NEVER;
  });

const bbox = z
  .string()
  .transform((value) => value.split(',').map(Number))
  .pipe(
    z
      .tuple([z.number().min(-180).max(180), z.number().min(-90).max(90), z.number().min(-180).max(180), z.number().min(-90).max(90)])
      .refine(([, south, , north]) => south <= north, 'south must not be above north'),
  )
  .describe('west,south,east,north in degrees; west > east crosses the antimeridian.');

export const incidentFilterShape = {
  q: z
    .string()
    .trim()
    .min(2, 'search for at least 2 characters')
    .max(200)
    .refine((q) => normalizeForSearch(q) !== '', 'search for a word or name, not only articles or punctuation')
    .optional()
    .describe(
      'Words to find in title, description, victim names, aliases, outlets and actor names; spelling variants of Arabic names match.',
    ),
  country: commaList(countryCodeSchema).optional(),
  region: commaList(z.string().max(200)).optional(),
  city: commaList(z.string().max(200)).optional(),
  attackType: codes(attackTypes).optional(),
  victimRole: codes(victimRoles).optional(),
  victimOutcome: codes(victimOutcomes).optional(),
  victimGender: codes(genders).optional(),
  actorName: z.string().trim().min(2).max(200).optional().describe("Part of a claimed or suspected actor's name."),
  actorType: codes(actorTypes).optional(),
  attribution: codes(attributions).optional(),
  verificationStatus: codes(verificationStatuses).optional(),
  motive: codes(motives).optional(),
  judicialOutcome: codes(judicialOutcomes).optional(),
  deathType: codes(deathTypes).optional().describe("How the victims died (CPJ's type of death)."),
  organisation: commaList(z.uuid()).optional().describe('Organisation ids.'),
  dateFrom: dateBound.optional(),
  dateTo: dateBound.optional(),
  dateMatch: z
    .enum(['overlaps', 'within'])
    .default('overlaps')
    .describe('overlaps (default): the incident may have happened in the range; within: it certainly did.'),
  bbox: bbox.optional(),
  hasProtectedVictims: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional()
    .describe('Editors and reviewers only; limits results to your own organisation.'),
  updatedSince: z.iso.datetime({ offset: true }).optional(),
};

export const incidentFiltersSchema = z.strictObject(incidentFilterShape);
export type IncidentFilters = z.infer<typeof incidentFiltersSchema>;

/** Filters that would reveal confidential facts are refused to roles that may not see them. */
export function assertFiltersAllowed(filters: IncidentFilters, actor: Actor): void {
  if (filters.hasProtectedVictims !== undefined && !ownOrganisation(actor)) {
    throw new ValidationError('The request has invalid parameters.', [
      { parameter: 'hasProtectedVictims', detail: 'only editors and reviewers may filter on protected victims' },
    ]);
  }
}

/**
 * The one filter compiler: every reader of incidents (the list, the export, both statistics
 * paths, the site) turns the same filters into SQL here, so they cannot disagree.
 *
 * The incident-level conditions name columns that `incidents` and `incident_facts` (migration
 * 0006) share, so they apply to either, through the alias of the row being read; only the
 * attack types differ (an array there, a bit mask here). Victim and claim filters are
 * conditions on one victim `v` and one claim `c` of that row, all for the same victim ("a
 * journalist who was killed") and the same claim. Search, place, coordinates, update time and
 * protected victims exist only on `incidents`.
 */
export interface CompiledFilters {
  /** Conditions on the incident row `alias`, read from `incidents` or from `incident_facts`. */
  incident(alias: string, table: 'incidents' | 'incident_facts'): RawBuilder<SqlBool>[];
  /** Conditions on one victim `v` of the incident row `alias`; undefined without victim filters. */
  victim?: (alias: string) => RawBuilder<SqlBool>;
  /** Conditions on one claim `c`; undefined without claim filters. */
  claim?: RawBuilder<SqlBool>;
  /** Whether the facts table can answer: no filter needs a column only `incidents` has. */
  factsHold: boolean;
}

/** Filters only the incidents table can answer. */
const INCIDENTS_ONLY = ['q', 'region', 'city', 'bbox', 'updatedSince', 'hasProtectedVictims'] as const;

export function compileFilters(filters: IncidentFilters, actor: Actor): CompiledFilters {
  const own = ownOrganisation(actor);
  const ref = (alias: string, column: string) => sql.ref(`${alias}.${column}`);
  // Untyped values: PostgreSQL reads them as the column's type (text on incidents, an enum on the
  // facts). One value is an equality: with `= any(array)` the planner cannot use an index such as
  // (country, date_start) for the list's order, and one country's newest page took 54 ms, not 7.
  const among = (alias: string, column: string, values: readonly string[] | undefined) => {
    if (!values) return [];
    return [
      values.length === 1 ? sql<SqlBool>`${ref(alias, column)} = ${values[0]}` : sql<SqlBool>`${ref(alias, column)} = any(${values})`,
    ];
  };

  const incident = (alias: string, table: 'incidents' | 'incident_facts') => {
    const conditions: RawBuilder<SqlBool>[] = [
      ...among(alias, 'country', filters.country),
      ...among(alias, 'verification_status', filters.verificationStatus),
      ...among(alias, 'motive', filters.motive),
      ...among(alias, 'judicial_outcome', filters.judicialOutcome),
      ...among(alias, 'death_type', filters.deathType),
    ];
    conditions.push(...among(alias, 'organisation_id', filters.organisation));
    if (filters.attackType) {
      // On the facts a bit mask (fact_attack_mask, computed once as a sub-select, not per row).
      conditions.push(
        table === 'incidents'
          ? sql`${ref(alias, 'attack_types')} && ${filters.attackType}::text[]`
          : sql`${ref(alias, 'attack_mask')} & (select fact_attack_mask(${filters.attackType}::text[])) <> 0`,
      );
    }
    const { dateFrom, dateTo } = filters;
    const within = filters.dateMatch === 'within';
    // overlaps: the incident may have happened in the range; within: it certainly did.
    if (dateFrom)
      conditions.push(
        within ? sql`${ref(alias, 'date_start')} >= ${dateFrom.date_start}` : sql`${ref(alias, 'date_end')} >= ${dateFrom.date_start}`,
      );
    if (dateTo)
      conditions.push(
        within ? sql`${ref(alias, 'date_end')} <= ${dateTo.date_end}` : sql`${ref(alias, 'date_start')} <= ${dateTo.date_end}`,
      );
    if (table === 'incidents') conditions.push(...incidentsOnly(alias, filters, own, (victim) => victimOpenTo(actor, victim, alias)));
    else if (INCIDENTS_ONLY.some((name) => filters[name] !== undefined)) throw new Error('these filters need the incidents table');
    return conditions;
  };

  const victimConditions = (alias: string) => [
    ...among('v', 'role', filters.victimRole),
    ...among('v', 'outcome', filters.victimOutcome),
    // A protected victim's gender is not public: outside the owning organisation, or behind an
    // access group the caller is not in, it never matches.
    ...(filters.victimGender ? [sql<SqlBool>`v.gender = any(${filters.victimGender}) and ${victimOpenTo(actor, 'v', alias)}`] : []),
  ];
  const claimConditions = [
    ...among('c', 'actor_type', filters.actorType),
    ...among('c', 'attribution', filters.attribution),
    ...(filters.actorName ? [sql<SqlBool>`c.actor_name ilike ${`%${escapeLike(filters.actorName)}%`}`] : []),
  ];
  const all = (conditions: RawBuilder<SqlBool>[]) => sql<SqlBool>`(${sql.join(conditions, sql` and `)})`;
  const hasVictimFilters = Boolean(filters.victimRole || filters.victimOutcome || filters.victimGender);

  return {
    incident,
    ...(hasVictimFilters ? { victim: (alias: string) => all(victimConditions(alias)) } : {}),
    ...(claimConditions.length ? { claim: all(claimConditions) } : {}),
    factsHold: INCIDENTS_ONLY.every((name) => filters[name] === undefined),
  };
}

/** Search, place, coordinates, update time and protected victims: columns of `incidents` alone. */
/** `victimOpen`: whether the caller may know the identity of a victim (by its alias): access groups (access.queries.ts). */
function incidentsOnly(
  alias: string,
  filters: IncidentFilters,
  own: string | undefined,
  victimOpen: (victimAlias: string) => RawBuilder<SqlBool>,
): RawBuilder<SqlBool>[] {
  const conditions: RawBuilder<SqlBool>[] = [];
  const ref = (column: string) => sql.ref(`${alias}.${column}`);
  // Both sides go through PostgreSQL's lower(): JS and PostgreSQL fold some letters differently
  // (JS turns the Turkish "İ" into "i" + U+0307), and then "city=İzmir" would miss "İzmir".
  const lowered = (values: readonly string[]) => sql.join(values.map((value) => sql`lower(${value})`));
  if (filters.region) conditions.push(sql`lower(${ref('region')}) in (${lowered(filters.region)})`);
  if (filters.city) conditions.push(sql`lower(${ref('city')}) in (${lowered(filters.city)})`);
  if (filters.updatedSince) conditions.push(sql`${ref('updated_at')} >= ${new Date(filters.updatedSince)}`);
  if (filters.bbox) {
    const [west, south, east, north] = filters.bbox;
    conditions.push(sql`${ref('latitude')} between ${south} and ${north}`);
    conditions.push(
      west <= east
        ? sql`${ref('longitude')} between ${west} and ${east}`
        : sql`(${ref('longitude')} >= ${west} or ${ref('longitude')} <= ${east})`,
    );
  }
  if (filters.hasProtectedVictims !== undefined && own) {
    const exists = sql<SqlBool>`exists (select 1 from victims pv where pv.incident_id = ${ref('id')} and pv.protected)`;
    conditions.push(sql`${ref('organisation_id')} = ${own}::uuid`, filters.hasProtectedVictims ? exists : sql`not ${exists}`);
  }
  if (filters.q) {
    // Each word as a readable substring, or by its name skeleton (search-text.ts searchPatterns);
    // on the caller's own incidents also as a whole word of a protected victim's name, whose
    // encrypted name only a blind index can find (sealed-fields.ts): exactly, never in part.
    const words = normalizeForSearch(filters.q).split(' ').filter(Boolean);
    searchPatterns(filters.q).forEach((patterns, index) => {
      const alternatives = patterns.map((pattern) => sql<SqlBool>`${ref('search_text')} like ${pattern}`);
      if (own) {
        alternatives.push(sql<SqlBool>`(${ref('organisation_id')} = ${own}::uuid and exists (select 1 from victims bv
          where bv.incident_id = ${ref('id')} and ${victimOpen('bv')} and bv.name_blind @> array[${queryWordToken(words[index]!)}]::text[]))`);
      }
      conditions.push(sql`(${sql.join(alternatives, sql` or `)})`);
    });
  }
  return conditions;
}

/**
 * The compiled filters as conditions on `incidents`, victims and claims as EXISTS sub-queries:
 * what the list, the export and the site put in their WHERE clause.
 */
export function matchesFilters(filters: IncidentFilters, actor: Actor): RawBuilder<SqlBool> {
  const compiled = compileFilters(filters, actor);
  const conditions = [
    ...compiled.incident('incidents', 'incidents'),
    ...(compiled.victim
      ? [sql<SqlBool>`exists (select 1 from victims v where v.incident_id = incidents.id and ${compiled.victim('incidents')})`]
      : []),
    ...(compiled.claim
      ? [sql<SqlBool>`exists (select 1 from perpetrator_claims c where c.incident_id = incidents.id and ${compiled.claim})`]
      : []),
  ];
  return conditions.length ? sql<SqlBool>`${sql.join(conditions, sql` and `)}` : sql<SqlBool>`true`;
}

/** Search relevance: how well the normalised query matches part of the search text. */
export function relevance(q: string) {
  return sql<number>`word_similarity(${relevanceText(q)}, incidents.search_text)`;
}

export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (match) => `\\${match}`);
}
