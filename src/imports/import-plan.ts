import { createIncidentSchema, type CreateIncidentInput } from '../incidents/incident.schemas.ts';
import { fileError, readCsv } from './csv-records.ts';
import { cpjFormat } from './cpj-format.ts';
import { ROW, shorten, type CellError, type ImportFormat } from './import-format.ts';
import { mappedFormat } from './mapped-format.ts';
import type { ImportMapping } from './mapping.schema.ts';
import { nativeFormat } from './native-format.ts';

/**
 * Reads a whole file and decides, row by row, what would be created and what is rejected and
 * why, without touching the database. Both the dry run and the real import start here, so a dry
 * run reports exactly what the import would do. Every row is checked with createIncidentSchema,
 * the same schema as POST /v1/incidents.
 */
export const IMPORT_FORMATS = ['native', 'cpj', 'mapped'] as const;
export type ImportFormatName = (typeof IMPORT_FORMATS)[number];

export interface PlannedRow {
  line: number;
  input: CreateIncidentInput;
}

export interface RejectedRow {
  line: number;
  errors: CellError[];
}

export interface ImportPlan {
  /** Data rows read (blank lines not counted). */
  rowCount: number;
  valid: PlannedRow[];
  rejected: RejectedRow[];
  /** Header columns the format does not read. */
  ignoredColumns: string[];
}

export interface PlanOptions {
  format: ImportFormatName;
  fileName: string;
  mapping?: ImportMapping | undefined;
}

function formatFor({ format, mapping }: PlanOptions): ImportFormat {
  if (format === 'cpj') return cpjFormat;
  if (format === 'native') return nativeFormat;
  if (!mapping) throw fileError('the mapped format needs a mapping');
  return mappedFormat(mapping);
}

/** The source every imported incident carries, pointing back to the file and line. Private. */
export function provenanceSource(fileName: string, line: number, format: ImportFormatName) {
  return { title: `Imported from ${fileName}, line ${line} (${format})`, kind: 'other' as const, public: false };
}

export function planImport(text: string, options: PlanOptions): ImportPlan {
  const format = formatFor(options);
  const csv = readCsv(text, options.mapping?.delimiter);
  const missing = format.requiredColumns.filter((column) => !csv.columns.includes(column));
  if (missing.length) {
    throw fileError(`the header has no column ${missing.map((column) => `"${column}"`).join(', ')}, which the ${options.format} format needs`);
  }

  const plan: ImportPlan = {
    rowCount: csv.records.length,
    valid: [],
    rejected: [],
    ignoredColumns: csv.columns.filter((column) => column && !format.readsColumn(column)),
  };
  for (const record of csv.records) {
    if (record.cellCountError) {
      plan.rejected.push({ line: record.line, errors: [{ column: ROW, reason: record.cellCountError }] });
      continue;
    }
    const { incident, errors } = format.convert(record);
    incident.sources = [...((incident.sources as unknown[] | undefined) ?? []), provenanceSource(options.fileName, record.line, options.format)];
    const parsed = createIncidentSchema.safeParse(incident);
    if (!parsed.success) {
      // A column already reported by the format is not reported again as "missing" or "invalid".
      const reported = new Set(errors.map((error) => error.column));
      for (const issue of parsed.error.issues) {
        const column = format.columnOf(issue.path);
        if (reported.has(column)) continue;
        const value = csv.columns.includes(column) ? record.cell(column) : '';
        const path = issue.path.join('.');
        errors.push({ column, ...(value ? { value: shorten(value) } : {}), reason: path ? `${path}: ${issue.message}` : issue.message });
      }
    }
    if (errors.length || !parsed.success) plan.rejected.push({ line: record.line, errors: dedupe(errors) });
    else plan.valid.push({ line: record.line, input: parsed.data });
  }
  return plan;
}

function dedupe(errors: CellError[]): CellError[] {
  const seen = new Set<string>();
  return errors.filter((error) => {
    const key = `${error.column}\u0000${error.reason}\u0000${error.value ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
