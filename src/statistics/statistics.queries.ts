import { sql, type RawBuilder } from 'kysely';
import { ownOrganisation, type Actor } from '../auth/actor.ts';
import type { Db } from '../db/create-db.ts';
import { escapeLike, filterConditions, type IncidentFilters } from '../incidents/incident-filters.ts';
import { visibleTo } from '../incidents/incident.queries.ts';
import type { Dimension } from './statistics.schemas.ts';

/**
 * Counts per group in one SQL statement. The filtered, visible incidents form a CTE `f`; each
 * dimension is an expression over `f` or over a row joined to it (an attack type unnested, a
 * distinct claim, a victim). Dates count only where they are known well enough: an incident
 * known only to "2015" has year 2015 and month null, never an invented January.
 */
export interface StatisticsOptions {
  groupBy: Dimension[];
  filters: IncidentFilters;
  includeDebunked: boolean;
}

export type Counts = { incidents: number; victims: number; victimsKilled: number };
export type GroupRow = Counts & Partial<Record<Dimension, string | number | null>>;

const incidentDimensions: Partial<Record<Dimension, RawBuilder<unknown>>> = {
  year: sql`case when extract(year from f.date_start) = extract(year from f.date_end) then extract(year from f.date_start)::int end`,
  month: sql`case when date_trunc('month', f.date_start) = date_trunc('month', f.date_end) then to_char(f.date_start, 'YYYY-MM') end`,
  country: sql`f.country::text`,
  verificationStatus: sql`f.verification_status`,
  motive: sql`f.motive`,
  judicialOutcome: sql`f.judicial_outcome`,
  attackType: sql`attack.attack_type`,
  actorType: sql`claim.actor_type`,
  attribution: sql`claim.attribution`,
};

const CLAIM_COLUMNS: Partial<Record<Dimension, string>> = { actorType: 'actor_type', attribution: 'attribution' };

export async function statistics(db: Db, actor: Actor, options: StatisticsOptions) {
  const { groupBy, filters, includeDebunked } = options;
  const own = ownOrganisation(actor) ?? null;

  const filtered = db
    .selectFrom('incidents')
    .select(['id', 'organisation_id', 'date_start', 'date_end', 'country', 'verification_status', 'motive', 'judicial_outcome', 'attack_types'])
    .where(visibleTo(actor))
    .where((eb) => eb.and([
      ...filterConditions(eb, filters, actor),
      ...(includeDebunked ? [] : [eb('incidents.verification_status', '<>', 'debunked')]),
    ]));

  // Victim filters also decide which victims are counted: "journalists killed", not "everyone
  // killed in incidents that involved a journalist".
  const victimMatch = sql.join([
    sql`true`,
    ...(filters.victimRole ? [sql`v.role = any(${filters.victimRole}::text[])`] : []),
    ...(filters.victimOutcome ? [sql`v.outcome = any(${filters.victimOutcome}::text[])`] : []),
    ...(filters.victimGender ? [sql`v.gender = any(${filters.victimGender}::text[]) and (not v.protected or f.organisation_id = ${own}::uuid)`] : []),
  ], sql` and `);

  const byVictim = groupBy.includes('victimRole') || groupBy.includes('gender');
  const dimension = (name: Dimension): RawBuilder<unknown> => {
    if (name === 'victimRole') return sql`v.role`;
    // A protected victim's gender is not public: outside the owning organisation it counts as unknown.
    if (name === 'gender') return sql`case when v.protected and f.organisation_id is distinct from ${own}::uuid then null else v.gender end`;
    return incidentDimensions[name]!;
  };

  const joins: RawBuilder<unknown>[] = [];
  // Like victim filters, attack-type and claim filters also decide which values are grouped:
  // attackType=killing&groupBy=attackType shows the killings, not the other types of those incidents.
  if (groupBy.includes('attackType')) {
    joins.push(sql`cross join lateral (
      select attack_type from unnest(f.attack_types) as attack_type
      ${filters.attackType ? sql`where attack_type = any(${filters.attackType}::text[])` : sql``}
    ) attack`);
  }
  const claimColumns = groupBy.map((name) => CLAIM_COLUMNS[name]).filter((column): column is string => Boolean(column));
  if (claimColumns.length) {
    joins.push(sql`left join lateral (
      select distinct ${sql.join(claimColumns.map((column) => sql.ref(`c.${column}`)))}
      from perpetrator_claims c where c.incident_id = f.id
      ${filters.actorType ? sql`and c.actor_type = any(${filters.actorType}::text[])` : sql``}
      ${filters.attribution ? sql`and c.attribution = any(${filters.attribution}::text[])` : sql``}
      ${filters.actorName ? sql`and c.actor_name ilike ${`%${escapeLike(filters.actorName)}%`}` : sql``}
    ) claim on true`);
  }

  const selected = groupBy.map((name) => sql`${dimension(name)} as ${sql.ref(name)}`);
  const groupKeys = groupBy.map((_, index) => sql.raw(String(index + 1)));
  const counts = byVictim
    ? sql`count(distinct f.id)::bigint as incidents, count(v.id)::bigint as victims,
          count(v.id) filter (where v.outcome = 'killed')::bigint as "victimsKilled"`
    : sql`count(*)::bigint as incidents, coalesce(sum(vc.victims), 0)::bigint as victims,
          coalesce(sum(vc.killed), 0)::bigint as "victimsKilled"`;
  const victimJoin = byVictim
    ? sql`left join victims v on v.incident_id = f.id and ${victimMatch}`
    : sql`left join (
        select v.incident_id, count(*) as victims, count(*) filter (where v.outcome = 'killed') as killed
        from victims v join f on f.id = v.incident_id
        where ${victimMatch}
        group by v.incident_id
      ) vc on vc.incident_id = f.id`;

  // Groups and totals are independent reads: on PostgreSQL they run side by side on two connections.
  const groupedQuery = sql<GroupRow>`
    with f as materialized (${filtered})
    select ${sql.join([...selected, counts])}
    from f ${sql.join(joins, sql` `)} ${victimJoin}
    ${groupKeys.length ? sql`group by ${sql.join(groupKeys)} order by ${sql.join(groupKeys.map((key) => sql`${key} nulls last`))}` : sql``}
  `;

  const totalsQuery = groupBy.length
    ? sql<Counts>`
        with f as materialized (${filtered})
        select count(*)::bigint as incidents, coalesce(sum(vc.victims), 0)::bigint as victims,
               coalesce(sum(vc.killed), 0)::bigint as "victimsKilled"
        from f left join (
          select v.incident_id, count(*) as victims, count(*) filter (where v.outcome = 'killed') as killed
          from victims v join f on f.id = v.incident_id where ${victimMatch} group by v.incident_id
        ) vc on vc.incident_id = f.id`
    : undefined;
  const [grouped, totals] = await Promise.all([groupedQuery.execute(db), totalsQuery?.execute(db)]);

  return { groups: grouped.rows, totals: totals?.rows[0] ?? (grouped.rows[0] as Counts) };
}
