import { sql, type Transaction } from 'kysely';
import type { Actor } from '../auth/actor.ts';
import type { Database } from '../db/database.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import { incidentSealedFrom } from './access.queries.ts';
import { selectIncidentTree } from './incident.queries.ts';

/**
 * The stored public documents of migration 0019: read beside the incident's own columns that
 * decide the reader's view, and written (or marked stale) in the writer's transaction.
 */
export function selectDocumentRows(db: DbOrTransaction, actor: Actor) {
  return db
    .selectFrom('incidents')
    .leftJoin('incident_documents', 'incident_documents.incident_id', 'incidents.id')
    .select([
      'incidents.id',
      'incidents.organisation_id',
      'incidents.visibility',
      'incidents.version',
      'incidents.created_at',
      'incident_documents.public_document',
    ])
    .select(sql<boolean>`${incidentSealedFrom(actor)}`.as('sealed'));
}

export type DocumentRow = Awaited<ReturnType<ReturnType<typeof selectDocumentRows>['execute']>>[number];

/** The incidents' trees as every document is built from them: for no reader, nothing sealed. */
export function readTreesForDocuments(db: DbOrTransaction, ids: readonly string[]) {
  return selectIncidentTree(db).where('incidents.id', 'in', ids).execute();
}

export async function writeDocuments(trx: Transaction<Database>, documents: ReadonlyArray<{ id: string; document: string }>) {
  if (!documents.length) return;
  await sql`insert into incident_documents (incident_id, public_document)
    select id, document from jsonb_to_recordset(${JSON.stringify(documents)}::jsonb) as d (id uuid, document text)
    on conflict (incident_id) do update set public_document = excluded.public_document`.execute(trx);
}

/**
 * Takes up to `limit` stale documents for this transaction, skipping those another filler or a
 * writer holds: a writer's statement marks the document stale (migration 0019) and keeps its
 * row locked until it commits, so a filler never stores a document older than a write.
 */
export async function claimStaleDocuments(trx: Transaction<Database>, limit: number): Promise<string[]> {
  const rows = await trx
    .selectFrom('incident_documents')
    .select('incident_id')
    .where('public_document', 'is', null)
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
  return rows.map((row) => row.incident_id);
}

export async function countStaleDocuments(db: DbOrTransaction): Promise<number> {
  const { stale } = await db
    .selectFrom('incident_documents')
    .select((eb) => eb.fn.countAll<number>().as('stale'))
    .where('public_document', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(stale);
}
