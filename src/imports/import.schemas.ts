import { z } from 'zod';
import { IMPORT_FORMATS } from './import-plan.ts';
import { importMappingSchema } from './mapping.schema.ts';

/** The wire shapes of /v1/imports: request parameters and the import report. */
const flag = z.enum(['true', 'false']).transform((value) => value === 'true');

export const ON_DUPLICATE = ['skip', 'create'] as const;
/** draft: every incident lands as an unverified draft. published: publish them all. keep (json only): as in the file. The last two need a reviewer's authority: npm run import only. */
export const IMPORT_VISIBILITIES = ['draft', 'published', 'keep'] as const;
export type ImportVisibility = (typeof IMPORT_VISIBILITIES)[number];
export type OnDuplicate = (typeof ON_DUPLICATE)[number];
const onDuplicateSchema = z.enum(ON_DUPLICATE);

export const importQuerySchema = z.strictObject({
  format: z
    .enum(IMPORT_FORMATS)
    .describe(
      'native: a Dateline CSV export; cpj: the CPJ killed-journalists export; mapped: any CSV with a mapping; json: a Dateline JSON export (GET /v1/incidents/export?format=json), sent as the body with Content-Type application/json.',
    ),
  dryRun: flag.default(false).describe('Check every row and report what would be created; write nothing.'),
  onError: z
    .enum(['abort', 'skip'])
    .default('abort')
    .describe('abort (default): a file with any bad row imports nothing. skip: import the good rows; the report lists the skipped ones.'),
  onDuplicate: onDuplicateSchema
    .default('skip')
    .describe(
      'skip (default): a row that is an incident you can already read (same victim, overlapping dates, same country and attack type) is not created; the report lists it under duplicates. create: create it anyway and flag it as a likely duplicate.',
    ),
  visibility: z
    .enum(IMPORT_VISIBILITIES)
    .default('draft')
    .describe(
      'Imports land as unverified drafts; "published" and "keep" (json: each incident\'s status and visibility as in the file) need a reviewer\'s authority and are refused over the API: a reviewer publishes an import with POST /v1/imports/{id}/publish.',
    ),
  fileName: z
    .string()
    .trim()
    .min(1)
    .max(200)
    // eslint-disable-next-line no-control-regex -- control characters are exactly what a file name must not hold
    .regex(/^[^\\/\u0000-\u001f]+$/, 'a file name, without folders')
    .default('upload.csv')
    .describe('Shown in each incident\'s import source: "Imported from <fileName>, line <n> (<format>)" ("item <n>" for json).'),
});
export type ImportQuery = z.infer<typeof importQuerySchema>;

export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/, 'use 1 to 200 visible ASCII characters')
  .optional();

export const importJsonBodySchema = z
  .strictObject({
    csv: z.string().min(1, 'the CSV is empty').describe('The whole CSV file as text.'),
    mapping: importMappingSchema.optional().describe('Required for format=mapped.'),
  })
  .meta({
    id: 'ImportJsonBody',
    description:
      'For format=mapped (and allowed for native and cpj): the CSV and its mapping in one JSON body. Not for format=json, whose body is the JSON export itself.',
  });

export const importIdParamsSchema = z.object({ id: z.uuid('not an import id') });

/** Keyset position in the list of imports: the last row's createdAt and id. */
export interface ImportCursor {
  createdAt: string;
  id: string;
}

export const encodeImportCursor = (cursor: ImportCursor) =>
  Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url');

const importCursorSchema = z
  .string()
  .max(500)
  .transform((value, context): ImportCursor => {
    try {
      const [createdAt, id] = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown[];
      if (z.iso.datetime().safeParse(createdAt).success && z.uuid().safeParse(id).success)
        return { createdAt: createdAt as string, id: id as string };
    } catch {
      // reported below
    }
    context.issues.push({ code: 'custom', input: value, message: 'use the nextCursor value from the previous page' });
    return z.NEVER;
  });

export const listImportsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: importCursorSchema.optional().describe('nextCursor from the previous page.'),
});

const cellErrorSchema = z.object({
  column: z
    .string()
    .describe(
      'The header name of the column at fault; "(row)" for the row as a whole. json: the field\'s path in the item ("victims.0.gender"), "(item)" for the item as a whole.',
    ),
  value: z.string().optional().describe('The offending cell, shortened.'),
  reason: z.string(),
});

const duplicateSchema = z.object({ incidentId: z.uuid(), score: z.number() }).loose();

export const importReportSchema = z
  .object({
    id: z.uuid().nullable().describe('null for a dry run or a rejected file: nothing was stored.'),
    format: z.enum(IMPORT_FORMATS),
    fileName: z.string(),
    fingerprint: z.string().describe('sha256 of the organisation, format, mapping, onDuplicate and file bytes.'),
    dryRun: z.boolean(),
    onError: z.enum(['abort', 'skip']),
    onDuplicate: onDuplicateSchema,
    visibility: z.enum(IMPORT_VISIBILITIES),
    counts: z.object({
      rows: z.int().describe('Data rows read; blank lines are not counted. json: incidents in the file.'),
      valid: z.int(),
      rejected: z.int(),
      created: z.int(),
      skipped: z.int().describe('Rejected rows left out because onError=skip.'),
      duplicates: z
        .int()
        .describe('Rows not created because they are an incident already stored (onDuplicate=skip); in a dry run, rows that would not be.'),
    }),
    ignoredColumns: z
      .array(z.string())
      .describe(
        'Columns of the file that this format does not read; json: the fields of the exported record that a new record gets anew (id, organisation, version, createdAt, updatedAt, publishedAt).',
      ),
    created: z.array(
      z.object({
        line: z
          .int()
          .describe("Line of the file where the row starts; the header is line 1. json: the item's position in data, the first being 1."),
        incidentId: z.uuid().nullable().describe('null in a dry run: the row would be created.'),
        title: z.string(),
        original: z
          .object({ verificationStatus: z.string(), visibility: z.enum(['draft', 'published']) })
          .optional()
          .describe(
            'json: the status and visibility the incident had in the file. POST /v1/imports/{id}/publish publishes only those published there.',
          ),
        duplicates: z.array(duplicateSchema).optional().describe('Likely duplicates flagged when the incident was created.'),
      }),
    ),
    duplicates: z
      .array(
        z.object({
          line: z.int(),
          title: z.string(),
          duplicateOf: duplicateSchema.describe('The stored incident the row is, among those the importing organisation can read.'),
        }),
      )
      .describe(
        'onDuplicate=skip: rows not created (in a dry run: that would not be) because they are an incident stored before the import.',
      ),
    rejected: z.array(
      z.object({
        line: z.int().describe("As in created: a line of the file, or for json the item's position, from 1."),
        errors: z.array(cellErrorSchema),
      }),
    ),
    createdAt: z.iso.datetime().nullable(),
    createdBy: z.uuid().nullable().describe('The API key that ran the import.'),
  })
  .meta({ id: 'ImportReport' });

export type ImportReport = z.infer<typeof importReportSchema>;

export const importSummarySchema = z
  .object({
    id: z.uuid(),
    format: z.enum(IMPORT_FORMATS),
    fileName: z.string(),
    counts: z.object({
      rows: z.int().describe('Data rows read.'),
      created: z.int(),
      rejected: z.int().describe('Rows left out (onError=skip).'),
    }),
    createdAt: z.iso.datetime(),
    createdBy: z.uuid().nullable().describe('The API key that ran the import.'),
  })
  .meta({ id: 'ImportSummary', description: 'An import without its report; GET /v1/imports/{id} has the report.' });

export const importListSchema = z
  .object({
    data: z.array(importSummarySchema),
    nextCursor: z.string().nullable().describe('Send as cursor for the next page; null on the last.'),
  })
  .meta({ id: 'ImportList' });

export const publishImportResultSchema = z
  .object({
    published: z.array(z.uuid()).describe('Incidents published now.'),
    unchanged: z
      .int()
      .describe('Incidents of the import not published now: already published, deleted since, or (json) drafts in the file.'),
  })
  .meta({ id: 'PublishImportResult' });
