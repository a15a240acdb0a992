import type { Transaction } from 'kysely';
import type { Actor } from '../auth/actor.ts';
import type { Db } from '../db/create-db.ts';
import type { Database } from '../db/database.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import { visibleTo, selectIncidentTree, type IncidentTreeRow } from './incident.queries.ts';
import { shapeIncident, viewFor, type IncidentView } from './incident-shapes.ts';
import {
  claimStaleDocuments,
  countStaleDocuments,
  readTreesForDocuments,
  selectDocumentRows,
  writeDocuments,
  type DocumentRow,
} from './incident-documents.queries.ts';

/**
 * Incidents as their readers get them, from stored documents (migration 0019) where the reader's
 * view is the public or research one, so that a list page, the incident page and the exports
 * send stored JSON text instead of gathering and shaping every incident's children per request.
 *
 * The stored document is the public view, made by shapeIncident like every other answer. The
 * research view is the same document plus three of the incident's own columns, added at read
 * time (researchIncidentSchema extends publicIncidentSchema with exactly those, in that order),
 * so one document serves both and its visibility and version are never stale. The full view
 * (the owning organisation's editors and reviewers) is always shaped from the rows: it holds
 * confidential fields and depends on the reader's access groups.
 */
export interface IncidentDocument {
  id: string;
  organisationId: string;
  view: IncidentView;
  /** The incident in `view`, as JSON text. */
  json: string;
  /** The rows it was shaped from, when it was not stored (always for the full view). */
  tree?: IncidentTreeRow | undefined;
}

const publicDocument = (tree: IncidentTreeRow) => JSON.stringify(shapeIncident(tree, 'public'));

/** The research view's additions, appended to the public document's members. */
function researchDocument(stored: string, row: DocumentRow): string {
  const extras = JSON.stringify({ visibility: row.visibility, version: row.version, createdAt: row.created_at.toISOString() });
  return `${stored.slice(0, -1)},${extras.slice(1)}`;
}

/**
 * The readers' documents for rows read with selectDocumentRows (in their order): stored text
 * where it is current and the view allows, the rest shaped from the rows in one more query.
 * Rows the reader can no longer see by then (unpublished or deleted in between) are left out.
 */
export async function documentsFor(db: DbOrTransaction, actor: Actor, rows: readonly DocumentRow[]): Promise<IncidentDocument[]> {
  const views = rows.map((row) => viewFor(actor, row.organisation_id, row.sealed));
  const live = rows.filter((row, index) => views[index] === 'full' || row.public_document === null).map((row) => row.id);
  const trees = live.length
    ? new Map(
        (await selectIncidentTree(db, actor).where('incidents.id', 'in', live).where(visibleTo(actor)).execute()).map((tree) => [
          tree.id,
          tree,
        ]),
      )
    : new Map<string, IncidentTreeRow>();
  const documents: IncidentDocument[] = [];
  rows.forEach((row, index) => {
    const view = views[index]!;
    const base = { id: row.id, organisationId: row.organisation_id, view };
    if (row.public_document !== null && view !== 'full') {
      documents.push({ ...base, json: view === 'public' ? row.public_document : researchDocument(row.public_document, row) });
      return;
    }
    const tree = trees.get(row.id);
    if (tree) documents.push({ ...base, json: JSON.stringify(shapeIncident(tree, view)), tree });
  });
  return documents;
}

/** One incident as the reader gets it, or undefined when they may not see it. */
export async function findIncidentDocument(db: DbOrTransaction, actor: Actor, id: string): Promise<IncidentDocument | undefined> {
  const row = await selectDocumentRows(db, actor).where('incidents.id', '=', id).where(visibleTo(actor)).executeTakeFirst();
  return row && (await documentsFor(db, actor, [row]))[0];
}

/**
 * Stores the current documents of these incidents, in the writer's transaction: a write marks
 * them stale (migration 0019's triggers) and src/incidents/incident-hooks.ts calls this before
 * the change is announced, so the write commits with its documents current.
 */
export async function storeIncidentDocuments(trx: Transaction<Database>, ids: readonly string[]): Promise<void> {
  if (!ids.length) return;
  const trees = await readTreesForDocuments(trx, [...new Set(ids)]);
  await writeDocuments(
    trx,
    trees.map((tree) => ({ id: tree.id, document: publicDocument(tree) })),
  );
}

/**
 * Stores stale documents, `batchSize` at a time, each batch in its own short transaction, until
 * none is left (or another process holds the rest). Returns how many it stored. Safe to run in
 * several processes at once, and beside writers (claimStaleDocuments).
 */
export async function fillStaleDocuments(db: Db, { batchSize = 500 } = {}): Promise<number> {
  let stored = 0;
  for (;;) {
    const count = await db.transaction().execute(async (trx) => {
      const ids = await claimStaleDocuments(trx, batchSize);
      if (ids.length) await storeIncidentDocuments(trx, ids);
      return ids.length;
    });
    stored += count;
    if (count < batchSize) return stored;
  }
}

export interface DocumentFiller {
  /** Resolves when the documents stale at start have been stored (for the bench, and tests). */
  ready: Promise<number>;
  stop(): Promise<void>;
}

/**
 * Keeps the stored documents filled in the background: those left stale by a migration, an
 * import (which defers them, src/db/derived-tables.ts) or a renamed organisation. Polls the
 * stale index every `intervalMs`, which costs an index probe when nothing is stale.
 */
export function startDocumentFiller(
  db: Db,
  { intervalMs = 1000, onError }: { intervalMs?: number; onError: (error: unknown) => void },
): DocumentFiller {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const fill = () => fillStaleDocuments(db);
  const ready = fill();
  running = ready.catch(onError);
  const next = () => {
    timer = setTimeout(() => {
      running = fill()
        .catch(onError)
        .finally(() => {
          if (!stopped) next();
        });
    }, intervalMs);
    timer.unref();
  };
  void running.finally(() => {
    if (!stopped) next();
  });
  return {
    ready,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

export { countStaleDocuments };
