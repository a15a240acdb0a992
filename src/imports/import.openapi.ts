import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  idempotencyKeySchema,
  importIdParamsSchema,
  importJsonBodySchema,
  importListSchema,
  importQuerySchema,
  importReportSchema,
  listImportsQuerySchema,
  publishImportResultSchema,
} from './import.schemas.ts';

/**
 * The /v1/imports paths for the OpenAPI document, from the schemas that validate the requests.
 * openapi.document.ts passes in its shared response helpers, so problems look the same everywhere.
 */
type Response = { description: string; content?: Record<string, { schema: z.ZodType }> };
export interface OpenApiHelpers {
  json: (schema: z.ZodType, description: string) => Response;
  problem: (description: string) => Response;
  errors: Record<number, Response>;
}

export function registerImportPaths(registry: OpenAPIRegistry, { json, problem, errors }: OpenApiHelpers) {
  const secured = [{ apiKey: [] }];
  registry.registerPath({
    method: 'post',
    path: '/v1/imports',
    operationId: 'createImport',
    tags: ['imports'],
    security: secured,
    summary: 'Import incidents from a CSV file or a Dateline JSON export (editor)',
    description:
      'The body is the file: Content-Type text/csv (native, cpj), or JSON { csv, mapping } (required for mapped), or for format=json ' +
      "the JSON export itself (GET /v1/incidents/export?format=json; each item's verification history is kept as imported history, " +
      "its status and visibility are not: an editor's import makes unverified drafts). A file that is not what its format says (another " +
      'format, UTF-16, Latin-1) is a 400 naming what was expected, and nothing is written. Every row is checked ' +
      'like POST /v1/incidents; a real import is one transaction. Imported incidents are unverified drafts, each with a private source ' +
      '"Imported from <fileName>, line <n> (<format>)", each audited. With onDuplicate=skip (the default) a row that is an incident ' +
      "the organisation can already read is not created and is listed in the report's duplicates. The same file (or Idempotency-Key) " +
      'again answers 200 with the first report and creates nothing. Formats and mappings: src/imports/README.md.',
    request: {
      query: importQuerySchema,
      headers: z.object({
        'idempotency-key': idempotencyKeySchema.describe('Any string up to 200 characters; reusing it returns the first import.'),
      }),
      body: {
        content: {
          'text/csv': { schema: z.string().describe('The CSV file, UTF-8, first line the header.') },
          'application/json': {
            schema: z.union([
              importJsonBodySchema,
              z
                .object({ data: z.array(z.record(z.string(), z.unknown())) })
                .loose()
                .describe(
                  'format=json: the JSON export as GET /v1/incidents/export?format=json writes it (or just its array of incidents).',
                ),
            ]),
          },
        },
      },
    },
    responses: {
      200: json(
        importReportSchema,
        "A dry run's report, or (with Idempotent-Replayed: true) the report of the earlier import of this file or key.",
      ),
      201: json(importReportSchema, 'Imported; Location names the stored report.'),
      ...errors,
      409: problem('The Idempotency-Key was used for another file.'),
      413: problem('The file is larger than IMPORT_BODY_LIMIT.'),
      415: problem('Send text/csv or application/json.'),
      422: {
        description: 'onError=abort and some rows are bad: nothing was imported. The problem holds the report (member `report`).',
        content: { 'application/problem+json': { schema: z.object({ type: z.string(), detail: z.string(), report: importReportSchema }) } },
      },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/imports',
    operationId: 'listImports',
    tags: ['imports'],
    security: secured,
    summary: "The organisation's imports, newest first (editors and reviewers of the organisation)",
    description: 'Summaries only, keyset-paginated: send nextCursor as cursor for the next page.',
    request: { query: listImportsQuerySchema },
    responses: { 200: json(importListSchema, 'One page of imports.'), ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/imports/{id}',
    operationId: 'getImport',
    tags: ['imports'],
    security: secured,
    summary: 'The report of an import (editors and reviewers of the organisation)',
    request: { params: importIdParamsSchema },
    responses: { 200: json(importReportSchema, 'As returned when the file was imported.'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/imports/{id}/publish',
    operationId: 'publishImport',
    tags: ['imports'],
    security: secured,
    summary: 'Publish the incidents an import created (reviewer)',
    description:
      'Publishes, in one transaction, every incident of the import that is still a draft and not deleted (of a json import, only those published in the file); each publication is audited.',
    request: { params: importIdParamsSchema },
    responses: { 200: json(publishImportResultSchema, 'Published.'), ...errors },
  });
}
