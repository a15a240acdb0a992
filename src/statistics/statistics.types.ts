import type { Compilable, RawBuilder, SqlBool } from 'kysely';
import type { IncidentFilters } from '../incidents/incident-filters.ts';
import type { Dimension } from './statistics.schemas.ts';

/**
 * The types both statistics paths share (the facts path, statistics-facts.queries.ts, and the
 * detailed path, statistics.queries.ts), in one file below both so neither imports the other's
 * types.
 */
export interface StatisticsOptions {
  groupBy: Dimension[];
  filters: IncidentFilters;
  includeDebunked: boolean;
}

export type Counts = { incidents: number; victims: number; victimsKilled: number };
export type GroupRow = Counts & Partial<Record<Dimension, string | number | null>>;

/**
 * Where the filtered, visible incidents `f` come from: a statement with id, organisation_id,
 * date_start, date_end, country, verification_status, motive and judicial_outcome, what
 * `attackTypes` reads, and `victims` and `killed` when it has the victim counts.
 */
export interface IncidentSource {
  filtered: Compilable<unknown> | RawBuilder<unknown>;
  /** The attack types of the row `f`, as a set-returning expression. */
  attackTypes: RawBuilder<unknown>;
  hasVictimCounts: boolean;
  /** Whether `f` is usually a small part of all incidents (it is filtered on what the facts lack). */
  fewIncidents: boolean;
}

/** Victim and claim filters as conditions on one victim `v` or claim `c` of the incident `f`. */
export interface ChildMatches {
  victim?: RawBuilder<SqlBool>;
  claim?: RawBuilder<SqlBool>;
}
