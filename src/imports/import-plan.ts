import { createIncidentSchema, type CreateIncidentInput } from '../incidents/incident.schemas.ts';
import { fileError, readCsv } from './csv-records.ts';
import { cpjFormat } from './cpj-format.ts';
import { ROW, shorten, type CellError, type ImportFormat } from './import-format.ts';
import { convertJsonItem, ignoredKeys, ITEM, readJsonItems, type ImportedState } from './json-format.ts';
import { mappedFormat } from './mapped-format.ts';
import type { ImportMapping } from './mapping.schema.ts';
import { nativeFormat } from './native-format.ts';

/**
 * Reads a whole file and decides, row by row, what would be created and what is rejected and
 * why, without touching the database. Both the dry run and the real import start here, so a dry
 * run reports exactly what the import would do. Every row is checked with createIncidentSchema,
 * the same schema as POST /v1/incidents. A CSV format reads rows (readCsv); the json format reads
 * the items of Dateline's JSON export (json-format.ts), and a "line" is then the item's position
 * in the file's `data`, the first being 1.
 */
export const IMPORT_FORMATS = ['native', 'cpj', 'mapped', 'json'] as const;
export type ImportFormatName = (typeof IMPORT_FORMATS)[number];

export interface PlannedRow {
  /** CSV: the line the row starts on. json: the item's position in `data`, from 1. */
  line: number;
  input: CreateIncidentInput;
  /** json only: the verification status, visibility and history the item had where it was exported. */
  state?: ImportedState | undefined;
}

export interface RejectedRow {
  line: number;
  errors: CellError[];
}

export interface ImportPlan {
  /** Data rows read (blank lines not counted); json: items. */
  rowCount: number;
  valid: PlannedRow[];
  rejected: RejectedRow[];
  /** Header columns the format does not read; json: the record's own fields (id, version…). */
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

/** The source every imported incident carries, pointing back to the file and line (json: item). Private. */
export function provenanceSource(fileName: string, line: number, format: ImportFormatName) {
  return {
    title: `Imported from ${fileName}, ${format === 'json' ? 'item' : 'line'} ${line} (${format})`,
    kind: 'other' as const,
    public: false,
  };
}

/** What a CSV format expects, for the message when the header is not that: "this does not look like …". */
const EXPECTED_FILE: Record<Exclude<ImportFormatName, 'json' | 'mapped'>, string> = {
  native: "Dateline's CSV export",
  cpj: "CPJ's export",
};

function listColumns(columns: readonly string[], max = 8): string {
  const named = columns.filter(Boolean);
  if (!named.length) return 'no column names';
  return `${named
    .slice(0, max)
    .map((column) => shorten(column, 40))
    .join(', ')}${named.length > max ? '…' : ''}`;
}

/** A JSON document sent as CSV: one message instead of a CSV error or a row per line. */
function rejectJson(text: string, format: ImportFormatName) {
  if (!/^\s*[[{]/.test(text)) return;
  try {
    JSON.parse(text);
  } catch {
    return; // not JSON after all: the CSV reader says what is wrong
  }
  throw fileError(
    `this is JSON, not CSV: format=${format} reads a CSV file. For Dateline's JSON export (GET /v1/incidents/export?format=json) use format=json`,
  );
}

export function planImport(text: string, options: PlanOptions): ImportPlan {
  if (options.format === 'json') return planJson(text, options);
  const format = formatFor(options);
  rejectJson(text, options.format);
  const csv = readCsv(text, options.mapping?.delimiter);
  const missing = format.requiredColumns.filter((column) => !csv.columns.includes(column));
  if (missing.length) {
    if (options.format === 'mapped') {
      throw fileError(
        `the header has no column ${missing.map((column) => `"${column}"`).join(', ')}, which the ${options.format} format needs`,
      );
    }
    const some = missing.length < format.requiredColumns.length ? ` (missing ${missing.join(', ')})` : '';
    throw fileError(
      `this does not look like ${EXPECTED_FILE[options.format]}: expected columns ${format.requiredColumns.join(', ')}…${some}, found ${listColumns(csv.columns)}`,
    );
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
    const cellOf = (column: string) => (csv.columns.includes(column) ? record.cell(column) : '');
    check(plan, { line: record.line, incident, errors }, options, format.columnOf, cellOf);
  }
  return plan;
}

/** Dateline's JSON export: one item of `data` is one incident; "line" is its position, from 1. */
function planJson(text: string, options: PlanOptions): ImportPlan {
  const items = readJsonItems(text);
  const plan: ImportPlan = { rowCount: items.length, valid: [], rejected: [], ignoredColumns: [] };
  const derived = new Set<string>();
  items.forEach((item, index) => {
    const { incident, state, errors, ignored = [] } = convertJsonItem(item);
    for (const key of ignored) derived.add(key);
    // A field's path in the item ("victims.0.gender"), as POST /v1/incidents would point at it.
    const pathOf = (path: readonly PropertyKey[]) => path.map(String).join('.') || ITEM;
    check(plan, { line: index + 1, incident, errors, state }, options, pathOf, () => '');
  });
  plan.ignoredColumns = ignoredKeys(items, derived);
  return plan;
}

/**
 * Adds the import's provenance source, checks the body with createIncidentSchema and files the
 * row as valid or rejected. A column the format already reported is not reported again.
 */
function check(
  plan: ImportPlan,
  row: { line: number; incident: Record<string, unknown>; errors: CellError[]; state?: ImportedState | undefined },
  options: PlanOptions,
  columnOf: (path: readonly PropertyKey[]) => string,
  cellOf: (column: string) => string,
) {
  const { incident, errors } = row;
  const sources = Array.isArray(incident.sources)
    ? incident.sources
    : incident.sources === undefined || incident.sources === null
      ? []
      : undefined;
  // Sources that are not a list are left for the schema to name.
  if (sources) incident.sources = [...sources, provenanceSource(options.fileName, row.line, options.format)];
  const parsed = createIncidentSchema.safeParse(incident);
  if (!parsed.success) {
    const reported = new Set(errors.map((error) => error.column));
    for (const issue of parsed.error.issues) {
      const column = columnOf(issue.path);
      if (reported.has(column)) continue;
      const value = cellOf(column);
      const path = issue.path.join('.');
      errors.push({
        column,
        ...(value ? { value: shorten(value) } : {}),
        reason: path && path !== column ? `${path}: ${issue.message}` : issue.message,
      });
    }
  }
  if (errors.length || !parsed.success) plan.rejected.push({ line: row.line, errors: dedupe(errors) });
  else plan.valid.push({ line: row.line, input: parsed.data, ...(row.state ? { state: row.state } : {}) });
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
