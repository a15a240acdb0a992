import { openedNotes, openedVictim } from '../incidents/sealed-fields.ts';
import { CSV_FORMULA_STARTS } from './csv.ts';

/**
 * The CSV records are built by PostgreSQL (incident-csv.ts), which cannot open what the
 * application encrypted (src/incidents/sealed-fields.ts): a protected victim's name, nationality
 * and outlet, and internal notes. On the rows the caller sees in full that hold any of these,
 * the query hands over the cells and the stored victims instead of the finished line, and these
 * cells are filled here, by the same rules as the SQL (a ';' list with an empty item for a
 * missing value; the quoting and formula guard of `text()` in incident-csv.ts).
 */
export interface CsvLineRow {
  line: string | null;
  id: string;
  cells: string[] | null;
  victims: StoredVictim[] | null;
  notes: string | null;
}

interface StoredVictim {
  id: string;
  name: string | null;
  name_original: string | null;
  aliases: string[];
  nationality: string | null;
  outlet: string | null;
  identity_sealed: string | null;
}

/** The cells this fills, and how each is written. */
const OPENED_CELLS = {
  victim_names: { list: (victim: StoredVictim) => victim.name, text: true },
  victim_nationalities: { list: (victim: StoredVictim) => victim.nationality, text: false },
  victim_outlets: { list: (victim: StoredVictim) => victim.outlet, text: true },
} as const;

export function csvTextCell(value: string | null): string {
  if (value === null) return '';
  const guarded = (CSV_FORMULA_STARTS as readonly string[]).includes(value.slice(0, 1)) ? `'${value}` : value;
  return /[",\n\r]/.test(value) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}

export function csvLine(row: CsvLineRow, columnNames: readonly string[]): string {
  if (row.line !== null) return row.line;
  const cells = [...(row.cells ?? [])];
  const victims = (row.victims ?? []).map(openedVictim);
  for (const [name, { list, text }] of Object.entries(OPENED_CELLS)) {
    const index = columnNames.indexOf(name);
    if (index < 0) continue;
    const joined = victims.map((victim) => list(victim) ?? '').join(';');
    cells[index] = text ? csvTextCell(joined === '' && victims.length === 0 ? null : joined) : joined;
  }
  const notesIndex = columnNames.indexOf('internal_notes');
  if (notesIndex >= 0) cells[notesIndex] = csvTextCell(openedNotes(row.id, row.notes));
  return cells.join(',');
}
