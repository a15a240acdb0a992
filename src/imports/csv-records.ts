import { parse } from 'csv-parse/sync';
import { ValidationError } from '../errors.ts';

/**
 * Reads an uploaded CSV into records that remember where they start in the file, so a report
 * can say "line 57" and the person can find the row in an editor (it is also the spreadsheet row
 * unless a cell above holds a line break). Structural problems of the whole file (not UTF-8, an
 * unclosed quote, no header) stop the import; a row with the wrong number of cells does not:
 * it is kept with `cellCountError` so the report can name it and the other rows can go on.
 */
export interface CsvRecord {
  /** 1-based line of the file where the record starts; the header is line 1. */
  line: number;
  /** The cell under a header name, trimmed; '' when the row has no such cell. */
  cell(column: string): string;
  /** Set when the row has more or fewer cells than the header (shifted columns). */
  cellCountError?: string;
}

export interface CsvFile {
  columns: string[];
  records: CsvRecord[];
}

export function fileError(detail: string): ValidationError {
  return new ValidationError('The file cannot be imported.', [{ pointer: '', detail }]);
}

/**
 * The file as text. A file in another encoding is refused with one message that names it, since
 * reading it as UTF-8 would turn its letters into replacement characters: UTF-16 (what
 * spreadsheets call "Unicode text"; a byte-order mark or NUL bytes give it away) and anything else
 * that is not valid UTF-8, which in practice is Latin-1 / Windows-1252 ("CSV" in older Excel).
 */
export function decodeUtf8(bytes: Uint8Array): string {
  if (isUtf16(bytes))
    throw fileError('the file is UTF-16 (a spreadsheet\'s "Unicode text"); save it as UTF-8 (in Excel: "CSV UTF-8") and try again');
  try {
    // A byte-order mark, if any, is dropped here.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const line =
      at === undefined
        ? ''
        : ` (line ${lineAt(bytes, at)} has the byte 0x${bytes[at]!.toString(16).toUpperCase().padStart(2, '0')}, which is not UTF-8)`;
    throw fileError(
      `the file is not UTF-8${line}; it is probably Latin-1 / Windows-1252. Save it as UTF-8 (in Excel: "CSV UTF-8") and try again`,
    );
  }
}

/** A UTF-16 byte-order mark, or NUL bytes in the first 4 kB (UTF-16 text of Latin letters is every other byte NUL). */
function isUtf16(bytes: Uint8Array): boolean {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) return true;
  const head = bytes.subarray(0, 4096);
  let nul = 0;
  for (const byte of head) if (byte === 0) nul++;
  return head.length > 0 && nul >= Math.max(2, head.length / 10);
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  for (let index = 0; index < bytes.length;) {
    const byte = bytes[index]!;
    const length =
      byte < 0x80 ? 1 : byte >= 0xc2 && byte <= 0xdf ? 2 : byte >= 0xe0 && byte <= 0xef ? 3 : byte >= 0xf0 && byte <= 0xf4 ? 4 : 0;
    if (length === 0) return index;
    for (let next = 1; next < length; next++) {
      if (((bytes[index + next] ?? 0) & 0xc0) !== 0x80) return index;
    }
    index += length;
  }
  return undefined;
}

function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let index = 0; index < offset; index++) if (bytes[index] === 0x0a) line++;
  return line;
}

export function readCsv(text: string, delimiter = ','): CsvFile {
  let rows: Array<{ record: string[]; info: { lines: number; empty_lines: number } }>;
  try {
    rows = parse(text, { bom: true, delimiter, relax_column_count: true, skip_empty_lines: true, info: true }) as unknown as typeof rows;
  } catch (error) {
    const { lines, message } = error as { lines?: number; message: string };
    throw fileError(`the CSV cannot be read${lines ? ` at line ${lines}` : ''}: ${message}`);
  }
  const [head, ...body] = rows;
  if (!head) throw fileError('the file is empty; the first line must name the columns');
  const columns = head.record.map((name) => name.trim());
  const seen = new Set<string>();
  for (const name of columns) {
    if (name && seen.has(name)) throw fileError(`the column "${name}" appears twice in the header`);
    seen.add(name);
  }
  const position = new Map(columns.map((name, index) => [name, index] as const).filter(([name]) => name));

  const records: CsvRecord[] = [];
  let previous = head.info;
  for (const { record, info } of body) {
    const line = previous.lines + 1 + (info.empty_lines - previous.empty_lines);
    previous = info;
    // Rows of empty cells (",,,,") are blank lines to a spreadsheet: skip them like blank lines.
    if (record.every((value) => value.trim() === '')) continue;
    // Strict even when the extra cells are empty: in a shifted row the last column is often empty.
    const cellCountError =
      record.length !== columns.length
        ? `this row has ${record.length} cells but the header has ${columns.length}: a value with an unquoted comma, or shifted columns`
        : undefined;
    records.push({
      line,
      cell: (column) => {
        const index = position.get(column);
        return index === undefined ? '' : (record[index] ?? '').trim();
      },
      ...(cellCountError ? { cellCountError } : {}),
    });
  }
  return { columns, records };
}
