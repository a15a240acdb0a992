import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { systemActor, type Role, type WriteContext } from '../audit/actor.ts';
import type { Db } from '../db/create-db.ts';
import { ValidationError } from '../errors.ts';
import { findOrganisationByName } from '../organisations/organisation.queries.ts';
import { parseInput } from '../validation.ts';
import type { ImportFormatName } from './import-plan.ts';
import type { ImportReport, ImportVisibility, OnDuplicate } from './import.schemas.ts';
import { previewImport, runImport, type ImportOutcome, type ImportRequest } from './import.service.ts';
import { importMappingSchema } from './mapping.schema.ts';

/**
 * `npm run import` without the argument parsing: reads the file (and mapping), then runs the
 * same previewImport/runImport as POST /v1/imports. It writes as the system actor `import-cli`
 * (no API key: the audit trail names it `system:import-cli`), acting as an editor of the
 * organisation, whose role is checked as a key's would be. The operator has the database itself,
 * so the CLI may also publish on import, acting as a reviewer too.
 */
export interface ImportCommand {
  file: string;
  format: ImportFormatName;
  organisation: string;
  mappingFile?: string | undefined;
  dryRun: boolean;
  onError: 'abort' | 'skip';
  onDuplicate: OnDuplicate;
  visibility: ImportVisibility;
  idempotencyKey?: string | undefined;
}

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

/** The CLI in one role for the organisation; one run id ties the run's audit records together. */
const actingAs = (organisationId: string, role: Role, runId: string): WriteContext => ({
  actor: systemActor('import-cli', { organisationId, role }),
  requestId: runId,
});

export async function importFromFile(
  db: Db,
  command: ImportCommand,
  onProgress?: (done: number, total: number) => void,
): Promise<ImportOutcome> {
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
  const runId = `import-cli-${randomUUID()}`;
  const editor = actingAs(organisation.id, 'editor', runId);
  // A dry run only reads: it sees what the editor would see.
  if (command.dryRun) return previewImport(db, editor.actor, request);
  const reviewer = command.visibility !== 'draft' ? actingAs(organisation.id, 'reviewer', runId) : undefined;
  return runImport(db, editor, request, { publishAs: reviewer, onProgress });
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
  for (const row of report.duplicates.slice(0, maxRows))
    lines.push(
      `  ${report.format === 'json' ? 'item' : 'line'} ${row.line}: incident ${row.duplicateOf.incidentId} (score ${row.duplicateOf.score})`,
    );
  if (report.duplicates.length > maxRows)
    lines.push(`  … and ${report.duplicates.length - maxRows} more rows; --json prints the whole report.`);
  return lines;
}

function rejectedLines(report: ImportReport, maxRows: number): string[] {
  if (!report.rejected.length) return [];
  const lines = [`Rejected rows${report.counts.skipped ? ' (skipped)' : ''}:`];
  for (const row of report.rejected.slice(0, maxRows)) {
    for (const error of row.errors) {
      lines.push(
        `  ${report.format === 'json' ? 'item' : 'line'} ${row.line}, ${error.column}: ${error.reason}${error.value ? ` (${JSON.stringify(error.value)})` : ''}`,
      );
    }
  }
  if (report.rejected.length > maxRows)
    lines.push(`  … and ${report.rejected.length - maxRows} more rows; --json prints the whole report.`);
  return lines;
}

export function describeError(error: unknown): string {
  if (error instanceof ValidationError)
    return [error.message, ...error.errors.map((item) => `  ${item.pointer ?? item.parameter ?? ''} ${item.detail}`.trimEnd())].join('\n');
  return error instanceof Error ? error.message : String(error);
}
