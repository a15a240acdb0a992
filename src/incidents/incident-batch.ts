import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { requireRole } from '../auth/actor.ts';
import type { AuditEntry, WriteContext } from '../audit/audit.queries.ts';
import { chainAuditRows, type ChainHead, type ChainedRow } from '../audit/audit-chain.ts';
import type { Database } from '../db/database.ts';
import { ForbiddenError } from '../errors.ts';
import { announceChanges } from './incident-hooks.ts';
import { insertIncidentBatch, type IncidentBatchRows } from './incident-batch.queries.ts';
import { shapeIncident } from './incident-shapes.ts';
import type { IncidentTreeRow } from './incident.queries.ts';
import type { CreateIncidentInput, Incident } from './incident.schemas.ts';
import { rejectChildIds } from './incident.service.ts';
import { claimColumns, newIncidentColumns, sourceColumns, victimColumns } from './incident-writes.queries.ts';
import { publicSearchText } from './search-text.ts';
import { sealedNotes, storedVictim } from './sealed-fields.ts';

/**
 * Creates many incidents at once (an import): the rows createIncident would write, built in JS
 * (ids from crypto.randomUUID, the search text, the victims' name keys, the full view for the
 * audit record) and written in a few statements per batch (incident-batch.queries.ts) instead
 * of a dozen round trips per incident. What is stored is what createIncident followed by setVisibility (when
 * publishAs is given) would store, record for record; test/imports-batch.test.ts compares them.
 * Duplicate flagging is the caller's step (src/duplicates/, set-based), after the insert.
 */
export interface BatchOptions {
  /** The name of the context's organisation: part of the full view in the audit record. */
  organisationName: string;
  /** A reviewer of the same organisation: publish each incident as setVisibility would. */
  publishAs?: WriteContext | undefined;
  /**
   * The audit chain's head, for a writer that holds the chain's lock (lockAuditChain) and writes
   * nothing else audited until its batches are written: the batch's audit records are linked
   * here, in JavaScript, while the database writes the previous batch, and the head moves on.
   */
  chain?: { head: ChainHead } | undefined;
}

/** A batch ready to write: its rows, the audit rows linked ahead (with `chain`), and the incidents as createIncident would return them. */
export interface PreparedBatch {
  rows: IncidentBatchRows;
  linkedAudit?: ChainedRow[] | undefined;
  created: Incident[];
}

/**
 * Everything of a batch that is JavaScript: checks, ids, search text, name keys, audit views.
 * Separate from the write so that an import prepares the next batch while PostgreSQL writes this one.
 */
export function prepareIncidentBatch(context: WriteContext, inputs: readonly CreateIncidentInput[], options: BatchOptions): PreparedBatch {
  requireRole(context.actor, 'editor');
  if (options.publishAs) {
    requireRole(options.publishAs.actor, 'reviewer');
    if (options.publishAs.actor.organisationId !== context.actor.organisationId)
      throw new ForbiddenError("A reviewer publishes only their own organisation's incidents.");
  }
  inputs.forEach(rejectChildIds);
  const batch: PreparedBatch = buildIncidentBatch(context, inputs, options);
  if (options.chain) {
    const linked = chainAuditRows(options.chain.head, batch.rows.audit);
    options.chain.head = linked.head;
    batch.linkedAudit = linked.rows;
  }
  return batch;
}

export async function writeIncidentBatch(trx: Transaction<Database>, batch: PreparedBatch): Promise<Incident[]> {
  await insertIncidentBatch(trx, batch.rows, batch.linkedAudit);
  // The changes as createIncident and setVisibility announce them, each under its own writer.
  for (const [action, kind] of [
    ['incident.create', 'created'],
    ['incident.publish', 'published'],
  ] as const) {
    const entries = batch.rows.audit.filter(({ entry }) => entry.action === action);
    const context = entries[0]?.context;
    if (!context) continue;
    await announceChanges(
      trx,
      context,
      entries.map(({ entry }) => ({ kind, incidentId: entry.entityId, organisationId: context.actor.organisationId, wasPublished: false })),
    );
  }
  return batch.created;
}

function buildIncidentBatch(context: WriteContext, inputs: readonly CreateIncidentInput[], options: BatchOptions) {
  const rows: IncidentBatchRows = { incidents: [], victims: [], claims: [], sources: [], audit: [] };
  const created: Incident[] = [];
  const organisationId = context.actor.organisationId;
  const now = new Date();
  for (const input of inputs) {
    const id = randomUUID();
    const child = <T extends object>(columns: T, position: number) => ({ id: randomUUID(), incident_id: id, position, ...columns });
    const victims = input.victims.map((victim, position) => child(victimColumns(victim), position));
    const claims = input.perpetratorClaims.map((claim, position) => child(claimColumns(claim), position));
    const sources = input.sources.map((source, position) => child(sourceColumns(source), position));
    const draft = {
      ...newIncidentColumns(id, organisationId, input, now),
      description: input.description ?? null,
      internal_notes: input.internalNotes ?? null,
      motive: input.motive ?? null,
      judicial_outcome: input.judicialOutcome ?? null,
      death_type: input.deathType ?? null,
      verification_status: 'unverified',
      visibility: 'draft',
      version: 1,
      published_at: null as Date | null,
      deleted_at: null,
      deleted_reason: null,
      search_text: '',
    };
    const tree = (incident: typeof draft) =>
      ({
        ...incident,
        organisation_name: options.organisationName,
        victims,
        perpetrator_claims: claims,
        sources,
      }) as unknown as IncidentTreeRow;
    const createdView = shapeIncident(tree(draft), 'full') as Incident;
    const audit: AuditEntry = {
      action: 'incident.create',
      entityType: 'incident',
      entityId: id,
      organisationId,
      before: null,
      after: createdView,
    };
    rows.audit.push({ context, entry: audit });
    let stored = draft;
    let view = createdView;
    if (options.publishAs) {
      const publishedAt = new Date();
      stored = { ...draft, visibility: 'published', published_at: publishedAt, updated_at: publishedAt, version: 2 };
      view = shapeIncident(tree(stored), 'full') as Incident;
      rows.audit.push({ context: options.publishAs, entry: { ...audit, action: 'incident.publish', before: createdView, after: view } });
    }
    // The view above is built from the plaintext; what is stored is sealed (sealed-fields.ts).
    rows.incidents.push({ ...stored, internal_notes: sealedNotes(id, stored.internal_notes), search_text: publicSearchText(view) });
    rows.victims.push(...victims.map(storedVictim));
    rows.claims.push(...claims);
    rows.sources.push(...sources);
    created.push(view);
  }
  return { rows, created };
}
