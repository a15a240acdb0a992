import { sql, type RawBuilder } from 'kysely';
import { ownOrganisation, type Actor } from '../auth/actor.ts';
import type { Db } from '../db/create-db.ts';
import { compileFilters, type CompiledFilters } from '../incidents/incident-filters.ts';
import { sharedWith } from '../incidents/incident.queries.ts';
import type { ChildMatches, Counts, GroupRow, IncidentSource, StatisticsOptions } from './statistics.types.ts';
import type { Dimension } from './statistics.schemas.ts';

/**
 * Statistics from incident_facts (migration 0006): one narrow row per live incident with its
 * victim counts, so the common questions need neither the wide incident rows nor the victims.
 * The facts are grouped once by the raw columns (an attack-type bit mask, enum codes, a month's
 * first day), into a few thousand rows; only those are then decoded, expanded into one row per
 * attack type, and summed into the groups and the totals, in one statement. Questions on victims
 * or claims use the facts as the source of detailedStatistics (statistics.queries.ts) instead.
 */

/** Per dimension: the fact column grouped on, and how the grouped value `g` is shown. */
const FACT_DIMENSIONS: Partial<Record<Dimension, { column: string; shown: RawBuilder<unknown> }>> = {
  year: { column: 'year', shown: sql`g.year::int` },
  month: { column: 'month', shown: sql`to_char(g.month, 'YYYY-MM')` },
  country: { column: 'country', shown: sql`g.country::text` },
  attackType: { column: 'attack_mask', shown: sql`attack.attack_type` },
  verificationStatus: { column: 'verification_status', shown: sql`g.verification_status::text` },
  motive: { column: 'motive', shown: sql`g.motive::text` },
  judicialOutcome: { column: 'judicial_outcome', shown: sql`g.judicial_outcome::text` },
  deathType: { column: 'death_type', shown: sql`g.death_type::text` },
  actorType: { column: 'actor_mask', shown: sql`actor.actor_type` },
  attribution: { column: 'attribution_mask', shown: sql`attributed.attribution` },
};

/**
 * Whether the facts alone hold every filter and dimension of the question: no victim or claim
 * filter, and not actor type with attribution together (that pair is per claim; the masks only
 * say which types and which attributions an incident's claims have).
 */
export function factsCanAnswer({ groupBy }: StatisticsOptions, compiled: CompiledFilters): boolean {
  const perClaim = groupBy.includes('actorType') && groupBy.includes('attribution');
  return compiled.factsHold && !compiled.victim && !compiled.claim && !perClaim && groupBy.every((name) => FACT_DIMENSIONS[name]);
}

export async function statisticsFromFacts(
  db: Db,
  actor: Actor,
  options: StatisticsOptions,
): Promise<{ groups: GroupRow[]; totals: Counts }> {
  const { groupBy, filters } = options;
  const dimensions = groupBy.map((name) => FACT_DIMENSIONS[name]!);
  const grouped = dimensions.map(({ column }) => sql.ref(`f.${column}`));
  const sums = (wrap: (sum: RawBuilder<unknown>) => RawBuilder<unknown>) =>
    sql.join(
      [
        ['incidents', 'incidents'],
        ['victims', 'victims'],
        ['killed', 'victimsKilled'],
      ].map(([column, name]) => sql`${wrap(sql`sum(${sql.ref(`g.${column}`)})`)}::bigint as ${sql.ref(name!)}`),
    );
  // As on the incident path, attackType=killing&groupBy=attackType shows the killings only.
  const attackTypes = groupBy.includes('attackType')
    ? sql`cross join lateral fact_attack_types(g.attack_mask) as attack (attack_type)
        ${filters.attackType ? sql`where attack.attack_type = any(${filters.attackType}::text[])` : sql``}`
    : sql``;
  // An incident counts under each distinct actor type (attribution) of its claims; without claims, under null.
  const claimValues = [
    ...(groupBy.includes('actorType') ? [sql`left join lateral fact_actor_types(g.actor_mask) as actor (actor_type) on true`] : []),
    ...(groupBy.includes('attribution')
      ? [sql`left join lateral fact_attributions(g.attribution_mask) as attributed (attribution) on true`]
      : []),
  ];
  const positions = groupBy.map((_, index) => sql.raw(String(index + 1)));
  const groupsQuery = groupBy.length
    ? sql`select ${sql.join(dimensions.map(({ shown }, index) => sql`${shown} as ${sql.ref(groupBy[index]!)}`))},
          ${sums((sum) => sum)}, false as total
        from g ${attackTypes} ${sql.join(claimValues, sql` `)} group by ${sql.join(positions)}
        union all`
    : sql``;

  const { rows } = await sql<GroupRow & { total: boolean }>`
    with g as materialized (
      select ${sql.join([...grouped, sql`count(*) as incidents, sum(f.victims) as victims, sum(f.victims_killed) as killed`])}
      from incident_facts f
      where ${sql.join(factConditions(actor, options), sql` and `)}
      ${grouped.length ? sql`group by ${sql.join(grouped)}` : sql``}
    )
    ${groupsQuery}
    select ${sql.join([...groupBy.map((name) => sql`null as ${sql.ref(name)}`), sums((sum) => sql`coalesce(${sum}, 0)`)])}, true as total
    from g
    -- the totals row last, the groups in the order of the incident path
    order by ${sql.join([sql.raw(String(groupBy.length + 4)), ...positions.map((position) => sql`${position} nulls last`)])}`.execute(db);

  const groups = rows.filter((row) => !row.total).map(({ total: _total, ...row }) => row as GroupRow);
  const [totals] = rows.filter((row) => row.total).map(({ incidents, victims, victimsKilled }) => ({ incidents, victims, victimsKilled }));
  return { groups, totals: totals! };
}

/** The facts as the incidents `f` of detailedStatistics, victim and claim filters included. */
export function factSource(actor: Actor, options: StatisticsOptions, matches: ChildMatches): IncidentSource {
  const conditions = [
    ...factConditions(actor, options),
    ...(matches.victim ? [sql`exists (select 1 from victims v where v.incident_id = f.incident_id and ${matches.victim})`] : []),
    ...(matches.claim ? [sql`exists (select 1 from perpetrator_claims c where c.incident_id = f.incident_id and ${matches.claim})`] : []),
  ];
  return {
    filtered: sql`select f.incident_id as id, f.organisation_id, f.date_start, f.date_end, f.country, f.verification_status,
        f.motive, f.judicial_outcome, f.death_type, f.attack_mask, f.victims, f.victims_killed as killed
      from incident_facts f where ${sql.join(conditions, sql` and `)}`,
    attackTypes: sql`fact_attack_types(f.attack_mask)`,
    hasVictimCounts: true,
    fewIncidents: false,
  };
}

/**
 * Who sees what, as in visibleTo (src/incidents/incident.queries.ts) but on the facts, which
 * hold live incidents only; then the filters, compiled once for all readers (incident-filters.ts).
 */
function factConditions(actor: Actor, { filters, includeDebunked }: StatisticsOptions): RawBuilder<unknown>[] {
  const own = ownOrganisation(actor);
  const conditions: RawBuilder<unknown>[] = [];
  if (actor.kind === 'key' && actor.role === 'researcher') {
    // Drafts of their own organisation and of those that share drafts with it (consent, migration 0017).
    conditions.push(
      sql`(f.published or f.organisation_id = ${actor.organisationId} or ${sharedWith(actor.organisationId, 'f.organisation_id')})`,
    );
  } else {
    conditions.push(own ? sql`(f.published or f.organisation_id = ${own})` : sql`f.published`);
  }
  conditions.push(...compileFilters(filters, actor).incident('f', 'incident_facts'));
  if (!includeDebunked) conditions.push(sql`f.verification_status <> 'debunked'`);
  return conditions.length ? conditions : [sql`true`];
}
