import { createHash } from 'node:crypto';
import { requireRole } from '../auth/actor.ts';
import type { WriteContext } from '../audit/audit.queries.ts';
import { inTransaction, type DbOrTransaction } from '../db/in-transaction.ts';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.ts';
import { createIncident, setVisibility } from '../incidents/incident.service.ts';
import { decodeUtf8, fileError } from './csv-records.ts';
import { importHooks, type ImportHooks } from './import-hooks.ts';
import { planImport, type ImportFormatName, type ImportPlan } from './import-plan.ts';
import type { ImportReport } from './import.schemas.ts';
import { completeImport, draftIncidentIds, findEarlierImports, findOwnImport, insertImport, refreshStatisticsIfGrown } from './import.queries.ts';
import type { ImportMapping } from './mapping.schema.ts';

/**
 * Imports a CSV file: plan every row (import-plan.ts), then create the valid ones through
 * createIncident, so each is validated, audited and searchable like one logged by hand, all in
 * one transaction. The import is recorded with its report; the same file or Idempotency-Key
 * again answers with that report and creates nothing.
 */
export interface ImportRequest {
  organisationId: string;
  format: ImportFormatName;
  fileName: string;
  bytes: Uint8Array;
  mapping?: ImportMapping | undefined;
  onError: 'abort' | 'skip';
  visibility: 'draft' | 'published';
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
  /** A reviewer's context to publish with; only the CLI has one (see README). */
  publishAs?: WriteContext | undefined;
  hooks?: ImportHooks | undefined;
  /** Called after each created incident. */
  onProgress?: ((done: number, total: number) => void) | undefined;
}

/** sha256 over everything that decides what an import creates. */
export function importFingerprint(request: ImportRequest): string {
  const hash = createHash('sha256');
  hash.update(`${request.organisationId}\n${request.format}\n${request.mapping ? JSON.stringify(request.mapping) : ''}\n`);
  hash.update(request.bytes);
  return hash.digest('hex');
}

/** The report of an earlier import of this file or Idempotency-Key, if there is one. */
export async function earlierImport(db: DbOrTransaction, request: ImportRequest, fingerprint = importFingerprint(request)): Promise<ImportReport | undefined> {
  const earlier = await findEarlierImports(db, request.organisationId, fingerprint, request.idempotencyKey);
  const byKey = earlier.find((row) => request.idempotencyKey && row.idempotency_key === request.idempotencyKey);
  if (byKey && byKey.fingerprint !== fingerprint) {
    throw new ConflictError(`This Idempotency-Key was used for a different file (import ${byKey.id}). Use a new key for a new file.`);
  }
  return (byKey ?? earlier[0])?.report as ImportReport | undefined;
}

function plan(request: ImportRequest): ImportPlan {
  const result = planImport(decodeUtf8(request.bytes), { format: request.format, fileName: request.fileName, mapping: request.mapping });
  if (result.rowCount === 0) throw fileError('the file has a header but no rows');
  return result;
}

function report(request: ImportRequest, fingerprint: string, planned: ImportPlan, result: Partial<ImportReport> & { dryRun: boolean }): ImportReport {
  const created = result.created ?? [];
  return {
    id: null,
    format: request.format,
    fileName: request.fileName,
    fingerprint,
    onError: request.onError,
    visibility: request.visibility,
    counts: {
      rows: planned.rowCount,
      valid: planned.valid.length,
      rejected: planned.rejected.length,
      created: created.filter((row) => row.incidentId).length,
      // Only an import that happened skipped anything: a dry run or a rejected file has no id.
      skipped: result.id && request.onError === 'skip' ? planned.rejected.length : 0,
    },
    ignoredColumns: planned.ignoredColumns,
    created,
    rejected: planned.rejected,
    createdAt: null,
    createdBy: null,
    ...result,
  };
}

/** The dry run: what the import would do, with nothing written. */
export async function previewImport(db: DbOrTransaction, request: ImportRequest): Promise<ImportOutcome> {
  const fingerprint = importFingerprint(request);
  const earlier = await earlierImport(db, request, fingerprint);
  if (earlier) return { kind: 'replayed', report: earlier };
  const planned = plan(request);
  const wouldCreate = planned.valid.map((row) => ({ line: row.line, incidentId: null, title: row.input.title }));
  return { kind: 'dry_run', report: report(request, fingerprint, planned, { dryRun: true, created: wouldCreate }) };
}

export async function runImport(db: DbOrTransaction, context: WriteContext, request: ImportRequest, options: RunOptions = {}): Promise<ImportOutcome> {
  requireRole(context.actor, 'editor');
  if (request.visibility === 'published' && !options.publishAs) {
    throw new ForbiddenError('Imports land as drafts: an editor imports, then a reviewer publishes them with POST /v1/imports/{id}/publish.');
  }
  const fingerprint = importFingerprint(request);
  const earlier = await earlierImport(db, request, fingerprint);
  if (earlier) return { kind: 'replayed', report: earlier };
  const planned = plan(request);
  if (planned.rejected.length && request.onError === 'abort') {
    return { kind: 'rejected', report: report(request, fingerprint, planned, { dryRun: false }) };
  }
  const { flagDuplicates } = options.hooks ?? importHooks;
  try {
    return await inTransaction(db, async (trx) => {
      const stored = await insertImport(trx, {
        organisationId: request.organisationId, fingerprint, idempotencyKey: request.idempotencyKey,
        format: request.format, fileName: request.fileName, createdBy: context.actor.keyId,
      });
      const created: ImportReport['created'] = [];
      for (const row of planned.valid) {
        const incident = await createIncident(trx, context, row.input);
        if (options.publishAs) await setVisibility(trx, options.publishAs, incident.id, 'published', undefined);
        const duplicates = (await flagDuplicates?.(trx, incident.id, context)) ?? [];
        created.push({ line: row.line, incidentId: incident.id, title: incident.title, ...(duplicates.length ? { duplicates: [...duplicates] } : {}) });
        options.onProgress?.(created.length, planned.valid.length);
        await refreshStatisticsIfGrown(trx, created.length);
      }
      const result = report(request, fingerprint, planned, {
        dryRun: false, id: stored.id, created, createdAt: stored.created_at.toISOString(), createdBy: context.actor.keyId,
      });
      await completeImport(trx, stored.id, { rows: planned.rowCount, created: created.length, rejected: planned.rejected.length }, result);
      return { kind: 'imported', report: result };
    });
  } catch (error) {
    // The same file or key imported at the same moment: that import won; answer with its report.
    if ((error as { code?: string }).code === '23505' && /imports_/.test(String((error as { constraint?: string }).constraint ?? (error as Error).message))) {
      const winner = await earlierImport(db, request, fingerprint);
      if (winner) return { kind: 'replayed', report: winner };
    }
    throw error;
  }
}

export async function getImportReport(db: DbOrTransaction, organisationId: string, id: string): Promise<ImportReport> {
  const row = await findOwnImport(db, organisationId, id);
  if (!row) throw new NotFoundError('Import not found.');
  return row.report as ImportReport;
}

/** Publishes the incidents an import created that are still drafts (reviewer), in one transaction. */
export async function publishImport(db: DbOrTransaction, context: WriteContext, id: string) {
  requireRole(context.actor, 'reviewer');
  return inTransaction(db, async (trx) => {
    const { created } = await getImportReport(trx, context.actor.organisationId, id);
    const ids = created.flatMap((row) => (row.incidentId ? [row.incidentId] : []));
    const draftSet = new Set(await draftIncidentIds(trx, context.actor.organisationId, ids));
    const drafts = ids.filter((incidentId) => draftSet.has(incidentId)); // in the file's order
    for (const incidentId of drafts) await setVisibility(trx, context, incidentId, 'published', undefined);
    return { published: drafts, unchanged: ids.length - drafts.length };
  });
}
