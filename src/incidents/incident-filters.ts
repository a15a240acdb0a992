import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { z } from 'zod';
import { ownOrganisation, type Actor } from '../auth/actor.ts';
import type { Database } from '../db/database.ts';
import { ValidationError } from '../errors.ts';
import { countryCodeSchema } from './country.ts';
import { incidentDateInputSchema, toStoredDate } from './incident-date.ts';
import { normalizeForSearch, relevanceText, searchPatterns } from './search-text.ts';
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
    .transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean))
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
  q: z.string().trim().min(2, 'search for at least 2 characters').max(200)
    .refine((q) => normalizeForSearch(q) !== '', 'search for a word or name, not only articles or punctuation')
    .optional()
    .describe('Words to find in title, description, victim names, aliases, outlets and actor names; spelling variants of Arabic names match.'),
  country: commaList(countryCodeSchema).optional(),
  region: commaList(z.string().max(200)).optional(),
  city: commaList(z.string().max(200)).optional(),
  attackType: codes(attackTypes).optional(),
  victimRole: codes(victimRoles).optional(),
  victimOutcome: codes(victimOutcomes).optional(),
  victimGender: codes(genders).optional(),
  actorName: z.string().trim().min(2).max(200).optional().describe('Part of a claimed or suspected actor\'s name.'),
  actorType: codes(actorTypes).optional(),
  attribution: codes(attributions).optional(),
  verificationStatus: codes(verificationStatuses).optional(),
  motive: codes(motives).optional(),
  judicialOutcome: codes(judicialOutcomes).optional(),
  deathType: codes(deathTypes).optional().describe('How the victims died (CPJ\'s type of death).'),
  organisation: commaList(z.uuid()).optional().describe('Organisation ids.'),
  dateFrom: dateBound.optional(),
  dateTo: dateBound.optional(),
  dateMatch: z.enum(['overlaps', 'within']).default('overlaps')
    .describe('overlaps (default): the incident may have happened in the range; within: it certainly did.'),
  bbox: bbox.optional(),
  hasProtectedVictims: z.enum(['true', 'false']).transform((value) => value === 'true').optional()
    .describe('Editors and reviewers only; limits results to your own organisation.'),
  updatedSince: z.iso.datetime({ offset: true }).optional(),
};

export const incidentFiltersSchema = z.strictObject(incidentFilterShape);
export type IncidentFilters = z.infer<typeof incidentFiltersSchema>;

type Eb = ExpressionBuilder<Database, 'incidents'>;

/** Filters that would reveal confidential facts are refused to roles that may not see them. */
export function assertFiltersAllowed(filters: IncidentFilters, actor: Actor): void {
  if (filters.hasProtectedVictims !== undefined && !ownOrganisation(actor)) {
    throw new ValidationError('The request has invalid parameters.', [
      { parameter: 'hasProtectedVictims', detail: 'only editors and reviewers may filter on protected victims' },
    ]);
  }
}


export function filterConditions(eb: Eb, filters: IncidentFilters, actor: Actor): Expression<SqlBool>[] {
  const conditions: Expression<SqlBool>[] = [];
  const own = ownOrganisation(actor);

  if (filters.country) conditions.push(eb('incidents.country', 'in', filters.country));
  // Both sides go through PostgreSQL's lower(): JS and PostgreSQL fold some letters differently
  // (JS turns the Turkish "İ" into "i" + U+0307), and then "city=İzmir" would miss "İzmir".
  const lower = (value: string) => eb.fn<string>('lower', [eb.val(value)]);
  if (filters.region) conditions.push(eb(eb.fn('lower', ['incidents.region']), 'in', filters.region.map(lower)));
  if (filters.city) conditions.push(eb(eb.fn('lower', ['incidents.city']), 'in', filters.city.map(lower)));
  if (filters.attackType) conditions.push(eb('incidents.attack_types', '&&', sql<string[]>`${filters.attackType}::text[]`));
  if (filters.verificationStatus) conditions.push(eb('incidents.verification_status', 'in', filters.verificationStatus));
  if (filters.motive) conditions.push(eb('incidents.motive', 'in', filters.motive));
  if (filters.judicialOutcome) conditions.push(eb('incidents.judicial_outcome', 'in', filters.judicialOutcome));
  if (filters.deathType) conditions.push(eb('incidents.death_type', 'in', filters.deathType));
  if (filters.organisation) conditions.push(eb('incidents.organisation_id', 'in', filters.organisation));
  if (filters.updatedSince) conditions.push(eb('incidents.updated_at', '>=', new Date(filters.updatedSince)));

  const { dateFrom, dateTo } = filters;
  if (filters.dateMatch === 'within') {
    if (dateFrom) conditions.push(eb('incidents.date_start', '>=', dateFrom.date_start));
    if (dateTo) conditions.push(eb('incidents.date_end', '<=', dateTo.date_end));
  } else {
    if (dateFrom) conditions.push(eb('incidents.date_end', '>=', dateFrom.date_start));
    if (dateTo) conditions.push(eb('incidents.date_start', '<=', dateTo.date_end));
  }

  if (filters.bbox) {
    const [west, south, east, north] = filters.bbox;
    conditions.push(eb('incidents.latitude', '>=', south), eb('incidents.latitude', '<=', north));
    const lon = [eb('incidents.longitude', '>=', west), eb('incidents.longitude', '<=', east)];
    conditions.push(west <= east ? eb.and(lon) : eb.or(lon));
  }

  const victimConditions = victimFilterConditions(filters, own);
  if (victimConditions) {
    conditions.push(
      eb.exists(
        eb.selectFrom('victims').select(sql`1`.as('one')).whereRef('victims.incident_id', '=', 'incidents.id').where(victimConditions),
      ),
    );
  }

  if (filters.actorType || filters.attribution || filters.actorName) {
    conditions.push(
      eb.exists(
        eb
          .selectFrom('perpetrator_claims')
          .select(sql`1`.as('one'))
          .whereRef('perpetrator_claims.incident_id', '=', 'incidents.id')
          .where((claim) =>
            claim.and([
              ...(filters.actorType ? [claim('perpetrator_claims.actor_type', 'in', filters.actorType)] : []),
              ...(filters.attribution ? [claim('perpetrator_claims.attribution', 'in', filters.attribution)] : []),
              ...(filters.actorName ? [claim('perpetrator_claims.actor_name', 'ilike', `%${escapeLike(filters.actorName)}%`)] : []),
            ]),
          ),
      ),
    );
  }

  if (filters.hasProtectedVictims !== undefined && own) {
    const protectedVictim = eb.exists(
      eb.selectFrom('victims').select(sql`1`.as('one')).whereRef('victims.incident_id', '=', 'incidents.id').where('victims.protected', '=', true),
    );
    conditions.push(eb('incidents.organisation_id', '=', own), filters.hasProtectedVictims ? protectedVictim : eb.not(protectedVictim));
  }

  if (filters.q) {
    // Each word as a readable substring, or by its name skeleton (search-text.ts searchPatterns).
    for (const patterns of searchPatterns(filters.q)) {
      conditions.push(eb.or(patterns.map((pattern) => eb('incidents.search_text', 'like', pattern))));
    }
  }
  return conditions;
}

/**
 * Conditions on one victim. A protected victim's gender is not public, so outside the owning
 * organisation it never makes an incident match a gender filter.
 */
function victimFilterConditions(filters: IncidentFilters, own: string | undefined) {
  if (!filters.victimRole && !filters.victimOutcome && !filters.victimGender) return undefined;
  return (eb: ExpressionBuilder<Database, 'victims' | 'incidents'>) =>
    eb.and([
      ...(filters.victimRole ? [eb('victims.role', 'in', filters.victimRole)] : []),
      ...(filters.victimOutcome ? [eb('victims.outcome', 'in', filters.victimOutcome)] : []),
      ...(filters.victimGender
        ? [
            eb('victims.gender', 'in', filters.victimGender),
            own
              ? eb.or([eb('victims.protected', '=', false), eb('incidents.organisation_id', '=', own)])
              : eb('victims.protected', '=', false),
          ]
        : []),
    ]);
}

/** Search relevance: how well the normalised query matches part of the search text. */
export function relevance(q: string) {
  return sql<number>`word_similarity(${relevanceText(q)}, incidents.search_text)`;
}

export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (match) => `\\${match}`);
}
