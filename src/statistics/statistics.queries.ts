import { sql, type RawBuilder } from 'kysely';
import type { Actor } from '../auth/actor.ts';
import type { Db } from '../db/create-db.ts';
import { compileFilters, matchesFilters } from '../incidents/incident-filters.ts';
import { visibleTo } from '../incidents/incident.queries.ts';
import { victimOpenTo } from '../incidents/access.queries.ts';
import { factSource, factsCanAnswer, statisticsFromFacts } from './statistics-facts.queries.ts';
import { publishedFactsOf } from './published-facts.ts';
import type { Dimension } from './statistics.schemas.ts';
import type { ChildMatches, Counts, GroupRow, IncidentSource, StatisticsOptions } from './statistics.types.ts';

/**
 * Counts per group. When the facts are kept in memory (published-facts.ts) and current, they
 * answer every question on the filters they hold, for anonymous and keyed callers alike.
 * Otherwise questions on incident-level filters and dimensions are answered from the grouped
 * facts (statistics-facts.queries.ts); those on victims or claims join the victims and claims to
 * the facts; the rest (search, place, update time, protected victims) read the incidents. All
 * give the same answers (test/statistics-paths.test.ts).
 */
export async function statistics(
  db: Db,
  actor: Actor,
  options: StatisticsOptions,
  /** The data version the caller already read (for its ETag), if any. */
  dataVersion?: number,
): Promise<{ groups: GroupRow[]; totals: Counts }> {
  const compiled = compileFilters(options.filters, actor);
  const inMemory = compiled.factsHold ? await publishedFactsOf(db)?.answer(options, actor, dataVersion) : undefined;
  if (inMemory) return inMemory;
  if (factsCanAnswer(options, compiled)) return statisticsFromFacts(db, actor, options);
  return detailedStatistics(db, actor, options, compiled.factsHold ? 'facts' : 'incidents');
}

const incidentDimensions: Partial<Record<Dimension, RawBuilder<unknown>>> = {
  // date_part (double precision) rather than extract (numeric): the same years, computed faster.
  year: sql`case when date_part('year', f.date_start) = date_part('year', f.date_end) then date_part('year', f.date_start)::int end`,
  month: sql`case when date_trunc('month', f.date_start) = date_trunc('month', f.date_end) then to_char(f.date_start, 'YYYY-MM') end`,
  country: sql`f.country::text`,
  // Text, not the facts' enums: groups sort by name either way.
  verificationStatus: sql`f.verification_status::text`,
  motive: sql`f.motive::text`,
  judicialOutcome: sql`f.judicial_outcome::text`,
  deathType: sql`f.death_type::text`,
  attackType: sql`attack.attack_type`,
  actorType: sql`claim.actor_type`,
  attribution: sql`claim.attribution`,
};

const CLAIM_COLUMNS: Partial<Record<Dimension, string>> = { actorType: 'actor_type', attribution: 'attribution' };

/**
 * Counts per group, with victims and claims joined. The filtered, visible incidents form a CTE
 * `f`, read from the facts or from the incidents; each dimension is an expression over `f` or
 * over a row joined to it (an attack type, a distinct claim, a victim). Dates count only where
 * they are known well enough: an incident known only to "2015" has year 2015 and month null,
 * never an invented January.
 */
export async function detailedStatistics(db: Db, actor: Actor, options: StatisticsOptions, from: 'facts' | 'incidents') {
  const { groupBy, filters } = options;

  // Victim filters also decide which victims are counted: "journalists killed", not "everyone
  // killed in incidents that involved a journalist".
  const compiled = compileFilters(filters, actor);
  const matches: ChildMatches = {
    ...(compiled.victim ? { victim: compiled.victim('f') } : {}),
    ...(compiled.claim ? { claim: compiled.claim } : {}),
  };
  const source = from === 'facts' ? factSource(actor, options, matches) : incidentSource(db, actor, options);

  const byVictim = groupBy.includes('victimRole') || groupBy.includes('gender');
  const dimension = (name: Dimension): RawBuilder<unknown> => {
    if (name === 'victimRole') return sql`v.role`;
    // A protected victim's gender is not public: outside the owning organisation, or behind an
    // access group the caller is not in, it counts as unknown.
    if (name === 'gender') return sql`case when ${victimOpenTo(actor, 'v', 'f')} then v.gender end`;
    return incidentDimensions[name]!;
  };

  const joins: RawBuilder<unknown>[] = [];
  // Like victim filters, attack-type and claim filters also decide which values are grouped:
  // attackType=killing&groupBy=attackType shows the killings, not the other types of those incidents.
  if (groupBy.includes('attackType')) {
    joins.push(sql`cross join lateral (
      select attack_type from ${source.attackTypes} as attack_type
      ${filters.attackType ? sql`where attack_type = any(${filters.attackType}::text[])` : sql``}
    ) attack`);
  }
  const claimColumns = groupBy.map((name) => CLAIM_COLUMNS[name]).filter((column): column is string => Boolean(column));
  if (claimColumns.length) {
    const columns = sql.join(claimColumns.map((column) => sql.ref(`c.${column}`)));
    const match = matches.claim ?? sql`true`;
    // One index lookup per incident suits the few incidents a search or a place finds; for a
    // large part of all incidents, reading the claims once and joining them by hash is ~3x faster.
    // With filters, the claims are first limited to those of `f`: sorting all 800k claims of 1M
    // incidents for a question about 2,000 of them took 0.6 of its 0.8 s. Without, reading `f`
    // twice would make PostgreSQL write all of it to a temporary file (~15% slower).
    const narrowed = Object.entries(filters).some(([name, value]) => name !== 'dateMatch' && value !== undefined);
    joins.push(
      source.fewIncidents
        ? sql`left join lateral (select distinct ${columns} from perpetrator_claims c where c.incident_id = f.id and ${match}) claim on true`
        : sql`left join (select distinct c.incident_id, ${columns} from perpetrator_claims c ${narrowed ? sql`join f on f.id = c.incident_id` : sql``}
          where ${match}) claim on claim.incident_id = f.id`,
    );
  }

  // Stored per-incident counts hold all victims: usable only when no victim filter narrows them.
  const victimCounts =
    source.hasVictimCounts && !matches.victim
      ? { join: sql``, victims: sql`f.victims`, killed: sql`f.killed` }
      : {
          join: sql`left join (
          select v.incident_id, count(*) as victims, count(*) filter (where v.outcome = 'killed') as killed
          from victims v join f on f.id = v.incident_id
          where ${matches.victim ?? sql`true`}
          group by v.incident_id
        ) vc on vc.incident_id = f.id`,
          victims: sql`vc.victims`,
          killed: sql`vc.killed`,
        };
  const incidentCounts = sql`count(*)::bigint as incidents, coalesce(sum(${victimCounts.victims}), 0)::bigint as victims,
    coalesce(sum(${victimCounts.killed}), 0)::bigint as "victimsKilled"`;

  const selected = groupBy.map((name) => sql`${dimension(name)} as ${sql.ref(name)}`);
  const groupKeys = groupBy.map((_, index) => sql.raw(String(index + 1)));
  const counts = byVictim
    ? sql`count(distinct f.id)::bigint as incidents, count(v.id)::bigint as victims,
          count(v.id) filter (where v.outcome = 'killed')::bigint as "victimsKilled"`
    : incidentCounts;
  const victimJoin = byVictim ? sql`left join victims v on v.incident_id = f.id and ${matches.victim ?? sql`true`}` : victimCounts.join;

  // Groups and totals are independent reads: on PostgreSQL they run side by side on two connections.
  // PostgreSQL materializes `f` where it is read twice (the victim counts join it again) and
  // inlines it where it is read once, which spares writing ~1M facts to a temporary file.
  const groupedQuery = sql<GroupRow>`
    with f as (${source.filtered})
    select ${sql.join([...selected, counts])}
    from f ${sql.join(joins, sql` `)} ${victimJoin}
    ${groupKeys.length ? sql`group by ${sql.join(groupKeys)} order by ${sql.join(groupKeys.map((key) => sql`${key} nulls last`))}` : sql``}
  `;
  const totalsQuery = groupBy.length
    ? sql<Counts>`with f as (${source.filtered}) select ${incidentCounts} from f ${victimCounts.join}`
    : undefined;
  const [grouped, totals] = await Promise.all([groupedQuery.execute(db), totalsQuery?.execute(db)]);

  return totals ? { groups: grouped.rows, totals: totals.rows[0]! } : { groups: [], totals: grouped.rows[0] as Counts };
}

/** The incidents themselves: every filter, including search, place and protected victims. */
function incidentSource(db: Db, actor: Actor, { filters, includeDebunked }: StatisticsOptions): IncidentSource {
  return {
    filtered: db
      .selectFrom('incidents')
      .select([
        'id',
        'organisation_id',
        'date_start',
        'date_end',
        'country',
        'verification_status',
        'motive',
        'judicial_outcome',
        'death_type',
        'attack_types',
      ])
      .where(visibleTo(actor))
      .where(matchesFilters(filters, actor))
      .$if(!includeDebunked, (query) => query.where('incidents.verification_status', '<>', 'debunked')),
    attackTypes: sql`unnest(f.attack_types)`,
    hasVictimCounts: false,
    fewIncidents: true,
  };
}
