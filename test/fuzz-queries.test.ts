import { parse as parseQuery } from 'node:querystring';
import fc from 'fast-check';
import type { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { listApiKeysQuerySchema } from '../src/auth/api-key.schemas.ts';
import { listDuplicatesQuerySchema } from '../src/duplicates/duplicate.schemas.ts';
import { exportIncidentsQuerySchema } from '../src/exports/export.schemas.ts';
import { tableFormatSchema } from '../src/http/response-format.ts';
import { listImportsQuerySchema } from '../src/imports/import.schemas.ts';
import { listIncidentsRequestSchema as listIncidentsQuerySchema } from '../src/incidents/incident.routes.ts';
import { statisticsQuerySchema } from '../src/statistics/statistics.schemas.ts';
import { isAcceptedInput, queryInput, type Overrides } from './support/arbitraries.ts';
import { randomIncidentBody, seededRandom, serviceWriter } from './support/factories.ts';
import { expectCleanAnswer, FUZZ_SEED, FUZZ_TEST_TIMEOUT_MS, fuzzRuns } from './support/fuzz-checks.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * Property-based fuzzing of every query parameter of the read endpoints, from their zod
 * schemas: valid combinations answer 200, broken ones (bad values, unknown or repeated
 * parameters) 400 naming the parameter, and nothing ever answers 5xx.
 */
const t = useTestApp();
let incidentId: string;

beforeAll(async () => {
  const writer = await serviceWriter(t.app.db, t.actors.ownOrganisation.id);
  const random = seededRandom(FUZZ_SEED);
  for (let index = 0; index < 30; index++) {
    const record = await writer.create(randomIncidentBody(random, index), { publish: random.chance(0.5) });
    incidentId = record.id;
  }
});

/** Checks the route makes beyond its schema, so a schema-valid query may still be a 400. */
type RouteRule = (params: Record<string, unknown>) => boolean;
/** sort=relevance needs q; a cursor is only valid as handed out by a previous page (see the pagination tests). */
const listRules: RouteRule = (params) => (params.sort !== 'relevance' || typeof params.q === 'string') && params.cursor === undefined;

async function fuzzQuery(
  path: () => string,
  schema: z.ZodType,
  options: { key?: () => string; overrides?: Overrides; rule?: RouteRule; runs: number },
) {
  await fc.assert(
    fc.asyncProperty(queryInput(schema, { overrides: options.overrides }), async ({ search }) => {
      const url = `${path()}?${search}`;
      const received = parseQuery(search); // as Express's "simple" query parser hands it over
      const valid = isAcceptedInput(schema, received, 'query') && (options.rule?.(received) ?? true);
      const response = await request(t.app, 'GET', url, { key: options.key?.() });
      expectCleanAnswer(response, url);
      expect(response.status, `${url}\n${response.text.slice(0, 500)}`).toBe(valid ? 200 : 400);
      if (!valid)
        expect(
          response.body.errors?.every((error: { parameter?: string }) => typeof error.parameter === 'string'),
          response.text,
        ).toBe(true);
    }),
    fuzzRuns(options.runs),
  );
}

describe('query parameters', { timeout: FUZZ_TEST_TIMEOUT_MS }, () => {
  it('GET /v1/incidents answers 200 for every valid query and 400 for every broken one', async () => {
    // Valid queries carry no cursor: a made-up one is a 400.
    const overrides = new Map([[listIncidentsQuerySchema.shape.cursor, fc.constant(undefined)]]);
    await fuzzQuery(() => '/v1/incidents', listIncidentsQuerySchema, { key: () => t.actors.editor, overrides, rule: listRules, runs: 300 });
  });

  it('GET /v1/stats answers 200 for every valid query and 400 for every broken one', async () => {
    await fuzzQuery(() => '/v1/stats', statisticsQuerySchema.extend(tableFormatSchema.shape), { key: () => t.actors.editor, runs: 250 });
  });

  it('GET /v1/incidents/export answers 200 for every valid query and 400 for every broken one', async () => {
    await fuzzQuery(() => '/v1/incidents/export', exportIncidentsQuerySchema, { key: () => t.actors.editor, runs: 150 });
  });

  it('GET /v1/incidents/:id/duplicates answers 200 for every valid query and 400 for every broken one', async () => {
    await fuzzQuery(() => `/v1/incidents/${incidentId}/duplicates`, listDuplicatesQuerySchema, { key: () => t.actors.editor, runs: 100 });
  });

  it('GET /v1/imports answers 200 for every valid query and 400 for every broken one', async () => {
    const overrides = new Map([[listImportsQuerySchema.shape.cursor, fc.constant(undefined)]]);
    await fuzzQuery(() => '/v1/imports', listImportsQuerySchema, { key: () => t.actors.editor, overrides, runs: 100 });
  });

  it('GET /v1/keys answers 200 for every valid query and 400 for every broken one', async () => {
    await fuzzQuery(() => '/v1/keys', listApiKeysQuerySchema, { key: () => t.actors.admin, runs: 100 });
  });
});
