import { z } from 'zod';
import { countryCodeSchema } from '../incidents/country.ts';
import {
  actorTypes,
  attackTypes,
  attributions,
  coordinatePrecisions,
  employments,
  genders,
  judicialOutcomes,
  localities,
  motives,
  sourceKinds,
  victimOutcomes,
  victimRoles,
} from '../incidents/taxonomies.ts';
import { compileDatePattern } from './date-patterns.ts';

/**
 * The mapping file of a `mapped` import: for each incident field, the column it comes from and
 * how to read it (value tables to taxonomy codes, date formats, list separators). Field by field
 * rather than column by column, because one field may need several columns (the date and its
 * "exact date unknown" flag) and one column may feed several victims. Example and reference:
 * src/imports/README.md.
 */
const column = z.string().trim().min(1).max(200).describe('A column name exactly as in the header row.');
const separator = z.string().min(1).max(5).optional().describe('The cell holds several values separated by this text.');
const codes = <T extends { codes: [string, ...string[]] }>(taxonomy: T) => z.enum(taxonomy.codes);

/** Cell text -> code. Matching ignores case and extra spaces; a cell that already is a code needs no entry. */
const valueTable = <T extends z.ZodType>(code: T) => z.record(z.string().min(1).max(200), code).default({});

/** A taxonomy field read from a column (through a value table), or the same value for every row. */
const choice = <T extends { codes: [string, ...string[]] }>(taxonomy: T) =>
  z.union([z.strictObject({ column, values: valueTable(codes(taxonomy)) }), z.strictObject({ value: codes(taxonomy) })]);

const countryChoice = z.union([
  z
    .strictObject({ column, values: valueTable(countryCodeSchema) })
    .describe('English country names and ISO codes are understood without a table.'),
  z.strictObject({ value: countryCodeSchema }),
]);

const datePattern = z
  .string()
  .min(4)
  .max(40)
  .superRefine((pattern, context) => {
    try {
      compileDatePattern(pattern);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
    }
  });

const textColumns = z.strictObject({
  columns: z.array(column).min(1).max(50).describe('Each non-empty cell becomes a line "Column: value".'),
});

export const importMappingSchema = z
  .strictObject({
    delimiter: z.enum([',', ';', '\t', '|']).default(','),
    title: z.union([
      z.strictObject({ column }),
      z.strictObject({ template: z.string().min(1).max(500).describe('Text with {Column} placeholders, e.g. "Attack on {Victim}".') }),
    ]),
    description: textColumns.optional(),
    internalNotes: textColumns.optional(),
    date: z.strictObject({
      column,
      formats: z.array(datePattern).min(1).max(10).describe('Tried in order: YYYY, MM/M, MMM/MMMM (month names), DD/D; e.g. "DD/MM/YYYY".'),
      exactDateUnknown: z
        .strictObject({ column, precision: z.enum(['month', 'year']).default('month') })
        .optional()
        .describe('A column that, when it holds anything but no/false/0, makes the date only as precise as `precision`.'),
    }),
    country: countryChoice,
    region: z.strictObject({ column }).optional(),
    city: z.strictObject({ column }).optional(),
    coordinates: z.strictObject({ latitude: column, longitude: column, precision: codes(coordinatePrecisions) }).optional(),
    attackTypes: z.union([
      z.strictObject({ column, separator, values: valueTable(z.union([codes(attackTypes), z.array(codes(attackTypes)).min(1)])) }),
      z.strictObject({ value: z.array(codes(attackTypes)).min(1) }),
    ]),
    motive: choice(motives).optional(),
    judicialOutcome: choice(judicialOutcomes).optional(),
    victims: z
      .strictObject({
        column,
        separator,
        pattern: z.enum(['name', 'name (outlet)']).default('name').describe('"name (outlet)" reads "Ana Díaz (Radio Sur)".'),
        role: choice(victimRoles).optional(),
        gender: choice(genders).optional(),
        outcome: choice(victimOutcomes).optional(),
        locality: choice(localities).optional(),
        employment: choice(employments).optional(),
        nationality: countryChoice.optional(),
        outlet: z.strictObject({ column }).optional(),
        protected: z.boolean().default(false).describe('Import every victim as protected (identity shown only to your organisation).'),
      })
      .optional()
      .describe('Victim fields read from a column apply to every victim of the row, or one each when the cell has as many items.'),
    perpetrators: z
      .strictObject({
        column,
        separator,
        actorTypes: valueTable(codes(actorTypes)).describe('Actor name -> actor type.'),
        defaultActorType: codes(actorTypes).default('unknown'),
        attribution: codes(attributions),
        attributedBy: z.string().trim().min(1).max(300).optional(),
      })
      .optional(),
    sources: z
      .strictObject({
        urlColumn: column.optional(),
        titleColumn: column.optional(),
        separator,
        publisher: z.string().trim().min(1).max(300).optional(),
        kind: codes(sourceKinds).default('media_report'),
        public: z.boolean().default(false),
      })
      .refine((sources) => sources.urlColumn || sources.titleColumn, 'give a urlColumn or a titleColumn')
      .optional(),
  })
  .meta({ id: 'ImportMapping' });

export type ImportMapping = z.infer<typeof importMappingSchema>;

/** Every column a mapping reads, to check them against the header before reading any row. */
export function mappedColumns(mapping: ImportMapping): string[] {
  const columns = new Set<string>();
  const visit = (value: unknown, key?: string) => {
    if (typeof value === 'string' && key && /^(column|latitude|longitude|urlColumn|titleColumn)$/.test(key)) columns.add(value);
    else if (Array.isArray(value) && key === 'columns') value.forEach((item) => columns.add(item));
    else if (value && typeof value === 'object' && key !== 'values' && key !== 'actorTypes') {
      for (const [childKey, child] of Object.entries(value)) visit(child, childKey);
    }
  };
  visit(mapping);
  if ('template' in mapping.title) {
    for (const match of mapping.title.template.matchAll(/\{([^{}]+)\}/g)) columns.add(match[1]!);
  }
  return [...columns];
}
