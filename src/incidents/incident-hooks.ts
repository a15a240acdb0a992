import type { Transaction } from 'kysely';
import type { Actor } from '../auth/actor.ts';
import type { WriteContext } from '../audit/audit.queries.ts';
import type { Db } from '../db/create-db.ts';
import type { Database } from '../db/database.ts';
import { defersDerivedTables } from '../db/derived-tables.ts';
import { storeIncidentDocuments } from './incident-documents.ts';

/**
 * What other areas do when an incident is written, without incidents knowing them (a
 * dependency keeps one direction: they import incidents, never the reverse). Duplicate
 * detection (src/duplicates/duplicate-hooks.ts) flags a new incident's likely duplicates in the
 * creating transaction, and lists them in the create answer. Feeds (src/feeds/feed-hooks.ts)
 * and webhooks (src/webhooks/webhook-hooks.ts) hear every change, and webhooks every completed
 * import, in the writing transaction. src/app.ts registers the listeners; with none
 * registered, incidents are written without them.
 */
export interface IncidentHooks {
  /** Runs inside the create's transaction, after the incident and its children are written. */
  afterCreate: ((trx: Transaction<Database>, context: WriteContext, incidentId: string) => Promise<unknown>) | undefined;
  /** Members added to the answer of POST /v1/incidents (not part of the incident). */
  createdAnswer: ((db: Db, actor: Actor, incidentId: string) => Promise<Record<string, unknown>>) | undefined;
  /**
   * Listeners to every committed-or-nothing change (feeds, webhooks), by name: each runs inside
   * the writing transaction, after the change, so what it writes commits or rolls back with it.
   */
  changeListeners: Map<string, IncidentChangeListener>;
  /** Listeners to a completed import of incidents (src/imports/), in the import's transaction. */
  importListeners: Map<string, ImportCompletedListener>;
}

export interface ImportCompleted {
  importId: string;
  organisationId: string;
  format: string;
  counts: { rows: number; created: number; rejected: number };
}

export type ImportCompletedListener = (trx: Transaction<Database>, context: WriteContext, completed: ImportCompleted) => Promise<void>;

/** What happened to an incident. A merge is `merged` for the incident merged away and `updated` for the survivor. */
export type IncidentChangeKind = 'created' | 'updated' | 'verification_changed' | 'published' | 'unpublished' | 'deleted' | 'merged';

export interface IncidentChange {
  kind: IncidentChangeKind;
  incidentId: string;
  organisationId: string;
  /** Whether the incident was in the public view (published, live, not merged) before the change. */
  wasPublished: boolean;
  /** The survivor, for `merged`. */
  mergedInto?: string | undefined;
}

export type IncidentChangeListener = (
  trx: Transaction<Database>,
  context: WriteContext,
  changes: readonly IncidentChange[],
) => Promise<void>;

export const incidentHooks: IncidentHooks = {
  afterCreate: undefined,
  createdAnswer: undefined,
  changeListeners: new Map(),
  importListeners: new Map(),
};

/** Tells every change listener, in the writing transaction (incident.service.ts, merges, imports). */
export async function announceChanges(
  trx: Transaction<Database>,
  context: WriteContext,
  changes: readonly IncidentChange[],
): Promise<void> {
  if (!changes.length) return;
  // The documents readers get (migration 0019) commit with the change; a bulk write stores them after it commits.
  if (!defersDerivedTables(trx))
    await storeIncidentDocuments(
      trx,
      changes.map((change) => change.incidentId),
    );
  for (const listener of incidentHooks.changeListeners.values()) await listener(trx, context, changes);
}

/** Tells every import listener, in the import's transaction (src/imports/import.service.ts). */
export async function announceImportCompleted(
  trx: Transaction<Database>,
  context: WriteContext,
  completed: ImportCompleted,
): Promise<void> {
  for (const listener of incidentHooks.importListeners.values()) await listener(trx, context, completed);
}
