import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Role } from '../auth/actor.ts';
import { insertApiKey, revokeApiKey } from '../auth/api-key.queries.ts';
import { toApiKey } from '../auth/api-key.schemas.ts';
import { appendAudit, type SystemContext, type WriteContext } from '../audit/audit.queries.ts';
import type { Db } from '../db/create-db.ts';
import { ValidationError } from '../errors.ts';
import { findOrganisationByName } from '../organisations/organisation.queries.ts';
import { parseInput } from '../http/validate.ts';
import type { ImportFormatName } from './import-plan.ts';
import type { ImportReport, OnDuplicate } from './import.schemas.ts';
import { earlierImport, previewImport, runImport, type ImportOutcome, type ImportRequest } from './import.service.ts';
import { importMappingSchema } from './mapping.schema.ts';

/**
 * `npm run import` without the argument parsing: reads the file (and mapping), then runs the
 * same previewImport/runImport as POST /v1/imports. Writes need an API key for the audit trail,
 * so the command makes a key for the run ("import CLI: <file>") and revokes it at the end, both
 * audited, like the sample-data loader. The operator has the database itself, so the CLI may
 * also publish on import, with a second (reviewer) key.
 */
export interface ImportCommand {
  file: string;
  format: ImportFormatName;
  organisation: string;
  mappingFile?: string | undefined;
  dryRun: boolean;
  onError: 'abort' | 'skip';
  onDuplicate: OnDuplicate;
  visibility: 'draft' | 'published';
  idempotencyKey?: string | undefined;
}

const cli: SystemContext = { actor: { kind: 'system', tool: 'import-cli' }, requestId: null };

export class CommandError extends Error {}

async function readMapping(file: string) {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new CommandError(`Cannot read the mapping ${file}: ${(error as Error).message}`);
  }
  return parseInput(importMappingSchema, json, 'body');
}

async function temporaryKey(db: Db, organisationId: string, role: Role, file: string): Promise<WriteContext> {
  const key = await db.transaction().execute(async (trx) => {
    const { key: _secret, ...row } = await insertApiKey(trx, { organisationId, name: `import CLI: ${file} (${role})`, role });
    await appendAudit(trx, cli, {
      action: 'api_key.create', entityType: 'api_key', entityId: row.id, organisationId, before: null, after: toApiKey(row),
    });
    return row;
  });
  return { actor: { kind: 'key', keyId: key.id, organisationId, role }, requestId: `import-cli-${key.id}` };
}

async function revokeKey(db: Db, context: WriteContext) {
  await db.transaction().execute(async (trx) => {
    const after = await revokeApiKey(trx, context.actor.keyId);
    if (!after) return;
    await appendAudit(trx, cli, {
      action: 'api_key.revoke', entityType: 'api_key', entityId: after.id, organisationId: after.organisation_id,
      before: { ...toApiKey(after), revokedAt: null }, after: toApiKey(after),
    });
  });
}

export async function importFromFile(db: Db, command: ImportCommand, onProgress?: (done: number, total: number) => void): Promise<ImportOutcome> {
  const organisation = await findOrganisationByName(db, command.organisation);
  if (!organisation) throw new CommandError(`No organisation named "${command.organisation}" (npm run keys -- list shows them).`);
  if (command.format === 'mapped' && !command.mappingFile) throw new CommandError('--format mapped needs --mapping <file.json>.');
  if (command.format !== 'mapped' && command.mappingFile) throw new CommandError('--mapping is only read with --format mapped.');
  const request: ImportRequest = {
    organisationId: organisation.id,
    format: command.format,
    fileName: path.basename(command.file),
    bytes: await readFile(command.file),
    mapping: command.mappingFile ? await readMapping(command.mappingFile) : undefined,
    onError: command.onError,
    onDuplicate: command.onDuplicate,
    visibility: command.visibility,
    idempotencyKey: command.idempotencyKey,
  };
  // A dry run only reads: it sees what the run's editor key would see, without making the key.
  if (command.dryRun) return previewImport(db, { kind: 'key', keyId: 'import-cli-dry-run', organisationId: organisation.id, role: 'editor' }, request);
  // A file imported before needs no key for this run.
  const earlier = await earlierImport(db, request);
  if (earlier) return { kind: 'replayed', report: earlier };

  const editor = await temporaryKey(db, organisation.id, 'editor', request.fileName);
  const reviewer = command.visibility === 'published' ? await temporaryKey(db, organisation.id, 'reviewer', request.fileName) : undefined;
  try {
    return await runImport(db, editor, request, { publishAs: reviewer, onProgress });
  } finally {
    await revokeKey(db, editor);
    if (reviewer) await revokeKey(db, reviewer);
  }
}

/** A readable summary for the terminal; the full report is --json. */
export function summarise(outcome: ImportOutcome, maxRows = 30): string {
  const { report } = outcome;
  const { counts } = report;
  const headline = {
    dry_run: `Dry run: ${counts.valid - counts.duplicates} of ${counts.rows} rows would be created${counts.duplicates ? `, ${counts.duplicates} are already stored` : ''}, ${counts.rejected} rejected. Nothing was written.`,
    imported: `Imported ${counts.created} of ${counts.rows} rows (import ${report.id})${counts.skipped ? `; skipped ${counts.skipped} bad rows` : ''}${counts.duplicates ? `; left out ${counts.duplicates} already stored` : ''}.`,
    replayed: `This file was imported before (import ${report.id}): nothing was created. Its report:`,
    rejected: `Nothing was imported: ${counts.rejected} of ${counts.rows} rows cannot be imported. Fix them, or use --on-error skip.`,
  }[outcome.kind];
  const lines = [headline];
  if (outcome.kind === 'replayed') lines.push(`  created ${counts.created}, skipped ${counts.skipped}, on ${report.createdAt}`);
  if (report.ignoredColumns.length) lines.push(`Columns not read: ${report.ignoredColumns.join(', ')}`);
  lines.push(...duplicateLines(report, maxRows), ...rejectedLines(report, maxRows));
  return lines.join('\n');
}

function duplicateLines(report: ImportReport, maxRows: number): string[] {
  if (!report.duplicates?.length) return [];
  const lines = ['Rows already stored (not created; --on-duplicate create creates them):'];
  for (const row of report.duplicates.slice(0, maxRows)) lines.push(`  line ${row.line}: incident ${row.duplicateOf.incidentId} (score ${row.duplicateOf.score})`);
  if (report.duplicates.length > maxRows) lines.push(`  … and ${report.duplicates.length - maxRows} more rows; --json prints the whole report.`);
  return lines;
}

function rejectedLines(report: ImportReport, maxRows: number): string[] {
  if (!report.rejected.length) return [];
  const lines = [`Rejected rows${report.counts.skipped ? ' (skipped)' : ''}:`];
  for (const row of report.rejected.slice(0, maxRows)) {
    for (const error of row.errors) {
      lines.push(`  line ${row.line}, ${error.column}: ${error.reason}${error.value ? ` (${JSON.stringify(error.value)})` : ''}`);
    }
  }
  if (report.rejected.length > maxRows) lines.push(`  … and ${report.rejected.length - maxRows} more rows; --json prints the whole report.`);
  return lines;
}

export function describeError(error: unknown): string {
  if (error instanceof ValidationError) return [error.message, ...error.errors.map((item) => `  ${item.pointer ?? item.parameter ?? ''} ${item.detail}`.trimEnd())].join('\n');
  return error instanceof Error ? error.message : String(error);
}
