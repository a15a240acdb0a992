import { createHash } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';
import type { Transaction } from 'kysely';
import { requireRole, type MemberActor } from '../auth/actor.ts';
import { lockAuditChain } from '../audit/audit-chain.ts';
import type { WriteContext } from '../audit/audit.queries.ts';
import type { Database } from '../db/database.ts';
import { deferDerivedTables, refreshDerivedTables } from '../db/derived-tables.ts';
import { inTransaction, type DbOrTransaction } from '../db/in-transaction.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { prepareIncidentBatch, writeIncidentBatch } from '../incidents/incident-batch.ts';
import { setVisibility } from '../incidents/incident.service.ts';
import { findOrganisation } from '../organisations/organisation.queries.ts';
import { decodeUtf8, fileError } from './csv-records.ts';
import { importHooks, type ImportHooks } from './import-hooks.ts';
import { planImport, type ImportFormatName, type ImportPlan, type PlannedRow } from './import-plan.ts';
import { recordImportedState } from './import-state.ts';
import { encodeImportCursor, type ImportCursor, type ImportReport, type ImportVisibility, type OnDuplicate } from './import.schemas.ts';
import {
  completeImport,
  draftIncidentIds,
  findEarlierImports,
  findOwnImport,
  insertImport,
  listImportRows,
  lockOrganisationImports,
  refreshStatisticsIfGrown,
} from './import.queries.ts';
import type { ImportMapping } from './mapping.schema.ts';
import { announceImportCompleted } from '../incidents/incident-hooks.ts';

/**
 * Imports a file (CSV, or Dateline's JSON export): plan every row (import-plan.ts); with onDuplicate=skip, set aside the
 * rows that are incidents already stored (import-hooks.ts, per batch, before anything is
 * written); then create the other valid ones in batches
 * (incident-batch.ts: the same rows, audit records and search text as createIncident, in a
 * few multi-row inserts per batch) and flag likely duplicates per batch, all in one
 * transaction, with the derived tables refreshed once at the end (src/db/derived-tables.ts).
 * The import is recorded with its report; the same file or Idempotency-Key again answers with
 * that report and creates nothing. A json import also records each incident's verification
 * history, and with a reviewer's authority (visibility=keep) its status and visibility
 * (import-state.ts).
 */
export interface ImportRequest {
  organisationId: string;
  format: ImportFormatName;
  fileName: string;
  bytes: Uint8Array;
  mapping?: ImportMapping | undefined;
  onError: 'abort' | 'skip';
  onDuplicate: OnDuplicate;
  visibility: ImportVisibility;
  idempotencyKey?: string | undefined;
}

export type ImportOutcome =
  | { kind: 'dry_run'; report: ImportReport }
  | { kind: 'imported'; report: ImportReport }
  /** The file (or key) was imported before: the first import's report, nothing created. */
  | { kind: 'replayed'; report: ImportReport }
  /** onError=abort and some rows are bad: nothing created, nothing stored. */
  | { kind: 'rejected'; report: ImportReport };

export interface RunOptions {
  /** A reviewer's context to publish (or, json, keep the file's status and visibility) with; only the CLI has one (see README). */
  publishAs?: WriteContext | undefined;
  hooks?: ImportHooks | undefined;
  /** Called for each created incident, once its batch is written. */
  onProgress?: ((done: number, total: number) => void) | undefined;
  /** Incidents written (and checked for duplicates) per batch: a few statements each. */
  chunkSize?: number | undefined;
}

const CHUNK_SIZE = 500;

/**
 * sha256 over everything that decides what an import creates. onDuplicate=create hashes as
 * every import did before the option existed (they all created), so a file imported then is
 * still recognised when sent again with onDuplicate=create.
 */
export function importFingerprint(request: ImportRequest): string {
  const hash = createHash('sha256');
  hash.update(`${request.organisationId}\n${request.format}\n${request.mapping ? JSON.stringify(request.mapping) : ''}\n`);
  if (request.onDuplicate !== 'create') hash.update(`onDuplicate=${request.onDuplicate}\n`);
  hash.update(request.bytes);
  return hash.digest('hex');
}

/** The report of an earlier import of this file or Idempotency-Key, if there is one. */
export async function earlierImport(
  db: DbOrTransaction,
  request: ImportRequest,
  fingerprint = importFingerprint(request),
): Promise<ImportReport | undefined> {
  const earlier = await findEarlierImports(db, request.organisationId, fingerprint, request.idempotencyKey);
  const byKey = earlier.find((row) => request.idempotencyKey && row.idempotency_key === request.idempotencyKey);
  if (byKey && byKey.fingerprint !== fingerprint) {
    throw new ConflictError(
      `This Idempotency-Key was used for a different file or onDuplicate (import ${byKey.id}). Use a new key for a new import.`,
    );
  }
  const report = (byKey ?? earlier[0])?.report;
  return report ? storedReport(report) : undefined;
}

/** A report as stored; those of imports stored before onDuplicate existed lack its fields. */
type StoredReport = Omit<ImportReport, 'onDuplicate' | 'duplicates' | 'counts'> &
  Partial<Pick<ImportReport, 'onDuplicate' | 'duplicates'>> & {
    counts: Omit<ImportReport['counts'], 'duplicates'> & { duplicates?: number };
  };

/** A stored report as the API answers it: imports stored before onDuplicate existed all created. */
function storedReport(stored: unknown): ImportReport {
  const report = stored as StoredReport;
  return { onDuplicate: 'create', duplicates: [], ...report, counts: { duplicates: 0, ...report.counts } };
}

function plan(request: ImportRequest): ImportPlan {
  if (request.visibility === 'keep' && request.format !== 'json') {
    throw new ValidationError('The request has invalid parameters.', [
      {
        parameter: 'visibility',
        detail: 'visibility=keep keeps the status and visibility a JSON export holds; it is only for format=json',
      },
    ]);
  }
  const result = planImport(decodeUtf8(request.bytes), { format: request.format, fileName: request.fileName, mapping: request.mapping });
  if (result.rowCount === 0)
    throw fileError(request.format === 'json' ? 'the file holds no incidents ("data" is empty)' : 'the file has a header but no rows');
  return result;
}

/** json: what the file said of the incident's state, kept in the report (publishImport reads it). */
const original = (row: PlannedRow) =>
  row.state ? { original: { verificationStatus: row.state.verificationStatus, visibility: row.state.visibility } } : {};

function report(
  request: ImportRequest,
  fingerprint: string,
  planned: ImportPlan,
  result: Partial<ImportReport> & { dryRun: boolean },
): ImportReport {
  const created = result.created ?? [];
  const duplicates = result.duplicates ?? [];
  return {
    id: null,
    format: request.format,
    fileName: request.fileName,
    fingerprint,
    onError: request.onError,
    onDuplicate: request.onDuplicate,
    visibility: request.visibility,
    counts: {
      rows: planned.rowCount,
      valid: planned.valid.length,
      rejected: planned.rejected.length,
      created: created.filter((row) => row.incidentId).length,
      // Only an import that happened skipped anything: a dry run or a rejected file has no id.
      skipped: result.id && request.onError === 'skip' ? planned.rejected.length : 0,
      duplicates: duplicates.length,
    },
    ignoredColumns: planned.ignoredColumns,
    created,
    duplicates,
    rejected: planned.rejected,
    createdAt: null,
    createdBy: null,
    ...result,
  };
}

/**
 * With onDuplicate=skip: splits the valid rows into those to create and those that are an
 * incident stored before the import (as `viewer`, the importing editor, may read it), one
 * set-based lookup per batch. Runs before the first batch is written, so rows of the same file
 * never make each other duplicates: those are created and flagged (the file is the source).
 */
async function setAsideDuplicates(
  trx: Transaction<Database>,
  viewer: MemberActor,
  request: ImportRequest,
  rows: readonly PlannedRow[],
  options: RunOptions,
) {
  const { findSameIncidents } = options.hooks ?? importHooks;
  if (request.onDuplicate !== 'skip' || !findSameIncidents) return { toCreate: rows, duplicates: [] };
  const chunkSize = options.chunkSize ?? CHUNK_SIZE;
  const toCreate: PlannedRow[] = [];
  const duplicates: ImportReport['duplicates'] = [];
  for (let start = 0; start < rows.length; start += chunkSize) {
    const chunk = rows.slice(start, start + chunkSize);
    const same = await findSameIncidents(
      trx,
      chunk.map((row) => row.input),
      viewer,
    );
    chunk.forEach((row, index) => {
      const duplicateOf = same[index];
      if (duplicateOf) duplicates.push({ line: row.line, title: row.input.title, duplicateOf });
      else toCreate.push(row);
    });
  }
  return { toCreate, duplicates };
}

/** The dry run: what the import would do, as `viewer` (the importing editor) would run it, with nothing written. */
export async function previewImport(
  db: DbOrTransaction,
  viewer: MemberActor,
  request: ImportRequest,
  options: RunOptions = {},
): Promise<ImportOutcome> {
  const fingerprint = importFingerprint(request);
  const earlier = await earlierImport(db, request, fingerprint);
  if (earlier) return { kind: 'replayed', report: earlier };
  const planned = plan(request);
  const { toCreate, duplicates } = await inTransaction(db, (trx) => setAsideDuplicates(trx, viewer, request, planned.valid, options));
  const wouldCreate = toCreate.map((row) => ({ line: row.line, incidentId: null, title: row.input.title, ...original(row) }));
  return { kind: 'dry_run', report: report(request, fingerprint, planned, { dryRun: true, created: wouldCreate, duplicates }) };
}

export async function runImport(
  db: DbOrTransaction,
  context: WriteContext,
  request: ImportRequest,
  options: RunOptions = {},
): Promise<ImportOutcome> {
  requireRole(context.actor, 'editor');
  if (request.visibility !== 'draft' && !options.publishAs) {
    throw new ForbiddenError(
      request.visibility === 'keep'
        ? "Imports land as unverified drafts: keeping the file's verification status and visibility takes a reviewer's authority (npm run import --visibility keep on the server). Over the API, a reviewer publishes the import with POST /v1/imports/{id}/publish."
        : 'Imports land as drafts: an editor imports, then a reviewer publishes them with POST /v1/imports/{id}/publish.',
    );
  }
  const fingerprint = importFingerprint(request);
  const earlier = await earlierImport(db, request, fingerprint);
  if (earlier) return { kind: 'replayed', report: earlier };
  const planned = plan(request);
  if (planned.rejected.length && request.onError === 'abort') {
    return { kind: 'rejected', report: report(request, fingerprint, planned, { dryRun: false }) };
  }
  const { flagDuplicates } = options.hooks ?? importHooks;
  const chunkSize = options.chunkSize ?? CHUNK_SIZE;
  try {
    return await inTransaction(db, async (trx) => {
      await lockOrganisationImports(trx, request.organisationId);
      const stored = await insertImport(trx, {
        organisationId: request.organisationId,
        fingerprint,
        idempotencyKey: request.idempotencyKey,
        format: request.format,
        fileName: request.fileName,
        createdBy: context.actor.keyId,
      });
      const organisation = await findOrganisation(trx, request.organisationId);
      if (!organisation) throw new NotFoundError('Organisation not found.');
      const { toCreate, duplicates } = await setAsideDuplicates(trx, context.actor, request, planned.valid, options);
      // With a reviewer: keep (json) sets each incident as the file says, after its batch is written; otherwise all are published.
      const keepAs = request.visibility === 'keep' ? options.publishAs : undefined;
      const publishAs = keepAs ? undefined : options.publishAs;
      await deferDerivedTables(trx);
      // The audit chain's lock, taken once: each batch's records are then linked while the
      // previous batch is written. Not for json, which audits each incident's state between batches.
      const chain = toCreate.length && request.format !== 'json' ? { head: await lockAuditChain(trx) } : undefined;
      const created: ImportReport['created'] = [];
      const prepare = (start: number) =>
        start < toCreate.length
          ? prepareIncidentBatch(
              context,
              toCreate.slice(start, start + chunkSize).map((row) => row.input),
              { organisationName: organisation.name, publishAs, chain },
            )
          : undefined;
      let next = prepare(0);
      for (let start = 0; next; start += chunkSize) {
        const rows = toCreate.slice(start, start + chunkSize);
        // The batch's statement goes out before the next batch is prepared, so both run at once.
        const written = writeIncidentBatch(trx, next);
        written.catch(() => undefined); // awaited below; no unhandled rejection if preparing the next batch throws first
        await setImmediate();
        next = prepare(start + chunkSize);
        const incidents = await written;
        if (request.format === 'json') await recordImportedState(trx, stored.id, incidents, rows, keepAs);
        // Duplicate detection's lookups and the derived refresh at the end are planned with these
        // statistics (without them the refresh of 20,000 incidents took 3.6x the CPU).
        await refreshStatisticsIfGrown(trx, start + incidents.length, start);
        const flagged = await flagDuplicates?.(trx, incidents, context);
        incidents.forEach((incident, index) => {
          const found = flagged?.get(incident.id) ?? [];
          created.push({
            line: rows[index]!.line,
            incidentId: incident.id,
            title: incident.title,
            ...original(rows[index]!),
            ...(found.length ? { duplicates: [...found] } : {}),
          });
          options.onProgress?.(created.length, toCreate.length);
        });
      }
      await refreshDerivedTables(
        trx,
        created.flatMap((row) => (row.incidentId ? [row.incidentId] : [])),
      );
      const result = report(request, fingerprint, planned, {
        dryRun: false,
        id: stored.id,
        created,
        duplicates,
        createdAt: stored.created_at.toISOString(),
        createdBy: context.actor.keyId,
      });
      await completeImport(trx, stored.id, { rows: planned.rowCount, created: created.length, rejected: planned.rejected.length }, result);
      await announceImportCompleted(trx, context, {
        importId: stored.id,
        organisationId: request.organisationId,
        format: request.format,
        counts: { rows: planned.rowCount, created: created.length, rejected: planned.rejected.length },
      });
      return { kind: 'imported', report: result };
    });
  } catch (error) {
    // The same file or key imported at the same moment: that import won; answer with its report.
    if (
      (error as { code?: string }).code === '23505' &&
      /imports_/.test(String((error as { constraint?: string }).constraint ?? (error as Error).message))
    ) {
      const winner = await earlierImport(db, request, fingerprint);
      if (winner) return { kind: 'replayed', report: winner };
    }
    throw error;
  }
}

export async function getImportReport(db: DbOrTransaction, organisationId: string, id: string): Promise<ImportReport> {
  const row = await findOwnImport(db, organisationId, id);
  if (!row) throw new NotFoundError('Import not found.');
  return storedReport(row.report);
}

/** GET /v1/imports: the organisation's imports, newest first, one keyset page. */
export async function listImports(db: DbOrTransaction, organisationId: string, page: { limit: number; cursor?: ImportCursor | undefined }) {
  const rows = await listImportRows(db, organisationId, { limit: page.limit + 1, after: page.cursor });
  const data = rows.slice(0, page.limit).map((row) => ({
    id: row.id,
    format: row.format as ImportFormatName,
    fileName: row.file_name,
    counts: { rows: row.row_count, created: row.created_count, rejected: row.rejected_count },
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
  }));
  const last = data.at(-1);
  return { data, nextCursor: rows.length > page.limit && last ? encodeImportCursor(last) : null };
}

/**
 * Publishes the incidents an import created that are still drafts (reviewer), in one
 * transaction. Of a json import, only those that were published where the file was exported:
 * a draft there stays a draft here.
 */
export async function publishImport(db: DbOrTransaction, context: WriteContext, id: string) {
  requireRole(context.actor, 'reviewer');
  return inTransaction(db, async (trx) => {
    const { created } = await getImportReport(trx, context.actor.organisationId, id);
    const ids = created.flatMap((row) => (row.incidentId ? [row.incidentId] : []));
    const publishable = created.flatMap((row) => (row.incidentId && row.original?.visibility !== 'draft' ? [row.incidentId] : []));
    const draftSet = new Set(await draftIncidentIds(trx, context.actor.organisationId, publishable));
    const drafts = publishable.filter((incidentId) => draftSet.has(incidentId)); // in the file's order
    for (const incidentId of drafts) await setVisibility(trx, context, incidentId, 'published', undefined);
    return { published: drafts, unchanged: ids.length - drafts.length };
  });
}
