import type { Transaction } from 'kysely';
import type { Actor } from '../auth/actor.ts';
import type { WriteContext } from '../audit/audit.queries.ts';
import type { Db } from '../db/create-db.ts';
import type { Database } from '../db/database.ts';

/**
 * What other areas do when an incident is written, without incidents knowing them (a
 * dependency keeps one direction: they import incidents, never the reverse). Duplicate
 * detection (src/duplicates/duplicate-hooks.ts) flags a new incident's likely duplicates in the
 * creating transaction, and lists them in the create answer. src/app.ts registers the
 * listeners; with none registered, incidents are written without them.
 */
export interface IncidentHooks {
  /** Runs inside the create's transaction, after the incident and its children are written. */
  afterCreate: ((trx: Transaction<Database>, context: WriteContext, incidentId: string) => Promise<unknown>) | undefined;
  /** Members added to the answer of POST /v1/incidents (not part of the incident). */
  createdAnswer: ((db: Db, actor: Actor, incidentId: string) => Promise<Record<string, unknown>>) | undefined;
}

export const incidentHooks: IncidentHooks = { afterCreate: undefined, createdAnswer: undefined };
