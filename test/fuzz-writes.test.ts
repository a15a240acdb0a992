import { readFileSync } from 'node:fs';
import { parse as parseQuery } from 'node:querystring';
import fc from 'fast-check';
import type { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKeySchema } from '../src/auth/api-key.schemas.ts';
import { mergeIncidentSchema } from '../src/duplicates/duplicate.schemas.ts';
import { importJsonBodySchema, importQuerySchema } from '../src/imports/import.schemas.ts';
import { importMappingSchema } from '../src/imports/mapping.schema.ts';
import {
  createIncidentSchema,
  deleteIncidentSchema,
  updateIncidentSchema,
  verificationChangeSchema,
  versionOnlySchema,
} from '../src/incidents/incident.schemas.ts';
import { createOrganisationSchema } from '../src/organisations/organisation.schemas.ts';
import { anyText, invalidInput, isAcceptedInput, queryInput, validInput } from './support/arbitraries.ts';
import { incidentBody, serviceWriter, type ServiceWriter } from './support/factories.ts';
import { databaseFingerprint, expectCleanAnswer, FUZZ_TEST_TIMEOUT_MS, fuzzRuns } from './support/fuzz-checks.ts';
import { request, useTestApp, type ApiResponse } from './support/test-app.ts';

/**
 * Property-based fuzzing of every write endpoint from its zod schema. Valid bodies are accepted;
 * broken ones (see test/support/arbitraries.ts) are answered 400 with problem+json and write
 * nothing. Whatever is sent, the answer is never a 5xx. The routes' own validation
 * (isAcceptedInput) decides which generated bodies are valid, so test and API cannot drift apart.
 */
const t = useTestApp();
let writer: ServiceWriter;
let patchTarget: string;

beforeAll(async () => {
  writer = await serviceWriter(t.app.db, t.actors.ownOrganisation.id);
  patchTarget = (await writer.create(incidentBody())).id;
});

interface Target {
  method: string;
  path: () => string | Promise<string>;
  key: () => string;
  /** e.g. If-Match with the incident's current version. */
  headers?: () => Promise<Record<string, string>>;
}

async function send(target: Target, body: unknown, extraHeaders: Record<string, string> = {}): Promise<ApiResponse> {
  const path = await target.path();
  const headers = { ...(await target.headers?.()), ...extraHeaders };
  const rawBody = body === undefined ? undefined : JSON.stringify(body);
  return request(t.app, target.method, path, { key: target.key(), ...(rawBody === undefined ? {} : { rawBody }), headers });
}

const describeBody = (target: Target, body: unknown) => `${target.method} ${JSON.stringify(body)?.slice(0, 600)}`;

/** Broken bodies: 400 validation-failed (413 when the mutation outgrew BODY_LIMIT), nothing written. */
async function expectInvalidRejected(target: Target, schema: z.ZodType, runs: number) {
  await fc.assert(
    fc.asyncProperty(invalidInput(schema), async (body) => {
      const asReceived = body === undefined ? undefined : JSON.parse(JSON.stringify(body));
      const valid = isAcceptedInput(schema, asReceived);
      const before = await databaseFingerprint(t.app.db);
      const response = await send(target, body);
      expectCleanAnswer(response, describeBody(target, body));
      expectNamedFields(response, describeBody(target, body));
      if (valid) return; // the mutation left the body valid: any other clean answer will do
      expect([400, 413], describeBody(target, body)).toContain(response.status);
      if (response.status === 400) expect(response.body.type).toBe('/problems/validation-failed');
      expect(await databaseFingerprint(t.app.db)).toEqual(before);
    }),
    fuzzRuns(runs),
  );
}

/**
 * A validation failure names the fields at fault. One without errors[] comes from the database
 * refusing a value the schema let through (src/http/problem-handler.ts): the schema is wrong.
 */
function expectNamedFields(response: ApiResponse, context: string) {
  if (response.body?.type !== '/problems/validation-failed') return;
  expect(response.body.errors?.length, `${context}\n${response.text}`).toBeGreaterThan(0);
}

async function expectValidAccepted(target: Target, bodies: fc.Arbitrary<unknown>, statuses: number[], runs: number) {
  await fc.assert(
    fc.asyncProperty(bodies, async (body) => {
      const response = await send(target, body);
      expectCleanAnswer(response, describeBody(target, body));
      expectNamedFields(response, describeBody(target, body));
      expect(statuses, `${describeBody(target, body)}\n${response.text}`).toContain(response.status);
    }),
    fuzzRuns(runs),
  );
}

/** Server-side ids and versions are not the fuzzer's to invent: a valid body keeps the items new. */
function withoutIds(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(withoutIds);
  if (!body || typeof body !== 'object') return body;
  return Object.fromEntries(
    Object.entries(body)
      .filter(([key]) => !['id', 'version', 'intoVersion', 'victimPairs'].includes(key))
      .map(([key, value]) => [key, withoutIds(value)]),
  );
}

async function currentVersion(id: string): Promise<Record<string, string>> {
  const row = await t.app.db.selectFrom('incidents').select('version').where('id', '=', id).executeTakeFirstOrThrow();
  return { 'if-match': `"${row.version}"` };
}

describe('POST /v1/incidents', { timeout: FUZZ_TEST_TIMEOUT_MS }, () => {
  const target: Target = { method: 'POST', path: () => '/v1/incidents', key: () => t.actors.editor };

  it('creates an incident from every valid body', async () => {
    await expectValidAccepted(target, validInput(createIncidentSchema).map(withoutIds), [201], 60);
  });

  it('rejects every broken body and writes nothing', async () => {
    await expectInvalidRejected(target, createIncidentSchema, 300);
  });

  it('names every impossible calendar day, wherever it is (the date, a range, a source)', async () => {
    const impossibleDay = fc.constantFrom('2023-02-29', '2015-13-01', '0000-00-00', '2015-04-31');
    const isDay = (value: unknown) => typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value);
    const withDays = validInput(createIncidentSchema)
      .map(withoutIds)
      .filter((body) => /"\d{4}-\d{2}-\d{2}"/.test(JSON.stringify(body)));
    await fc.assert(
      fc.asyncProperty(withDays, impossibleDay, async (body, day) => {
        const broken = JSON.parse(JSON.stringify(body), (_key, value) => (isDay(value) ? day : value));
        const response = await send(target, broken);
        expect(response.status, describeBody(target, broken)).toBe(400);
        expectNamedFields(response, describeBody(target, broken));
      }),
      fuzzRuns(40),
    );
  });
});

describe('PATCH /v1/incidents/:id', { timeout: FUZZ_TEST_TIMEOUT_MS }, () => {
  const target: Target = {
    method: 'PATCH',
    path: () => `/v1/incidents/${patchTarget}`,
    key: () => t.actors.editor,
    headers: () => currentVersion(patchTarget),
  };
  // A type of death needs "killing" among the attack types, stored or sent (the service checks
  // the incident after the change): a change that sends attack types states its type of death
  // too, so that whatever the incident holds, a valid body is a valid change.
  const changes = validInput(updateIncidentSchema)
    .map(withoutIds)
    .map((body) => {
      const change = body as { attackTypes?: string[]; deathType?: string | null };
      if (change.attackTypes) return { ...change, deathType: change.attackTypes.includes('killing') ? (change.deathType ?? null) : null };
      const { deathType: _deathType, ...rest } = change;
      return rest;
    })
    .filter((body) => Object.keys(body as object).length > 0);

  it('applies every valid change', async () => {
    await expectValidAccepted(target, changes, [200], 50);
  });

  it('rejects every broken change and writes nothing', async () => {
    await expectInvalidRejected(target, updateIncidentSchema, 250);
  });
});

describe('reviewer and editor actions on one incident', { timeout: FUZZ_TEST_TIMEOUT_MS }, () => {
  const onPatchTarget = (action: string, key: () => string): Target => ({
    method: 'POST',
    path: () => `/v1/incidents/${patchTarget}/${action}`,
    key,
    headers: () => currentVersion(patchTarget),
  });

  it('changes the verification status for every valid body (409 when the status is already set)', async () => {
    await expectValidAccepted(
      onPatchTarget('verification', () => t.actors.reviewer),
      validInput(verificationChangeSchema).map(withoutIds),
      [200, 409],
      40,
    );
  });

  it('rejects every broken verification change and writes nothing', async () => {
    await expectInvalidRejected(
      onPatchTarget('verification', () => t.actors.reviewer),
      verificationChangeSchema,
      150,
    );
  });

  it.each(['publish', 'unpublish'])('%s accepts every valid body and rejects every broken one', async (action) => {
    const target = onPatchTarget(action, () => t.actors.reviewer);
    await expectValidAccepted(target, validInput(versionOnlySchema).map(withoutIds), [200, 409], 15);
    await expectInvalidRejected(target, versionOnlySchema, 60);
  });
});

describe('actions that end an incident', { timeout: FUZZ_TEST_TIMEOUT_MS }, () => {
  const fresh = () => writer.create(incidentBody());

  it('DELETE soft-deletes with every valid reason and rejects every broken body', async () => {
    let id = '';
    const target: Target = { method: 'DELETE', path: () => `/v1/incidents/${id}`, key: () => t.actors.editor };
    await fc.assert(
      fc.asyncProperty(validInput(deleteIncidentSchema).map(withoutIds), async (body) => {
        id = (await fresh()).id;
        const response = await send(target, body);
        expectCleanAnswer(response, describeBody(target, body));
        expect(response.status, response.text).toBe(204);
      }),
      fuzzRuns(20),
    );
    id = (await fresh()).id;
    await expectInvalidRejected(target, deleteIncidentSchema, 100);
  });

  it('merge combines two incidents for every valid body and rejects every broken one', async () => {
    let id = '';
    const target: Target = { method: 'POST', path: () => `/v1/incidents/${id}/merge`, key: () => t.actors.reviewer };
    await fc.assert(
      fc.asyncProperty(validInput(mergeIncidentSchema).map(withoutIds), async (body) => {
        id = (await fresh()).id;
        const into = (await fresh()).id;
        const response = await send(target, { ...(body as object), into });
        expectCleanAnswer(response, describeBody(target, body));
        expect(response.status, response.text).toBe(200);
      }),
      fuzzRuns(15),
    );
    id = (await fresh()).id;
    await expectInvalidRejected(target, mergeIncidentSchema, 100);
  });
});

describe('organisations and keys (admin)', { timeout: FUZZ_TEST_TIMEOUT_MS }, () => {
  it('POST /v1/organisations creates (or finds the name taken) for every valid body, rejects every broken one', async () => {
    const target: Target = { method: 'POST', path: () => '/v1/organisations', key: () => t.actors.admin };
    await expectValidAccepted(target, validInput(createOrganisationSchema), [201, 409], 30);
    await expectInvalidRejected(target, createOrganisationSchema, 100);
  });

  it('POST /v1/keys creates a key for every valid body, rejects every broken one', async () => {
    const target: Target = { method: 'POST', path: () => '/v1/keys', key: () => t.actors.admin };
    const bodies = validInput(createApiKeySchema).map((body) => ({ ...(body as object), organisationId: t.actors.otherOrganisation.id }));
    await expectValidAccepted(target, bodies, [201], 30);
    await expectInvalidRejected(target, createApiKeySchema, 100);
  });
});

describe('path parameters', { timeout: FUZZ_TEST_TIMEOUT_MS }, () => {
  const segment = fc.oneof(
    anyText({ minLength: 1, maxLength: 40 }),
    fc.uuid(),
    fc.constantFrom("' or 1=1 --", '..', '%00', '00000000-0000-0000-0000-00000000000g'),
  );

  it.each<[string, string, (id: string) => string, 'editor' | 'reviewer' | 'admin', unknown]>([
    ['PATCH', '/v1/incidents/:id', (id) => `/v1/incidents/${id}`, 'editor', { title: 'New title' }],
    ['DELETE', '/v1/incidents/:id', (id) => `/v1/incidents/${id}`, 'editor', { reason: 'duplicate' }],
    [
      'POST',
      '/v1/incidents/:id/verification',
      (id) => `/v1/incidents/${id}/verification`,
      'reviewer',
      { status: 'verified', note: 'checked' },
    ],
    ['POST', '/v1/incidents/:id/publish', (id) => `/v1/incidents/${id}/publish`, 'reviewer', undefined],
    ['POST', '/v1/incidents/:id/merge', (id) => `/v1/incidents/${id}/merge`, 'reviewer', { into: crypto.randomUUID() }],
    ['POST', '/v1/imports/:id/publish', (id) => `/v1/imports/${id}/publish`, 'reviewer', undefined],
    ['DELETE', '/v1/keys/:id', (id) => `/v1/keys/${id}`, 'admin', undefined],
  ])('%s %s answers 400 or 404 for any id and writes nothing', async (method, _route, path, role, body) => {
    await fc.assert(
      fc.asyncProperty(segment, async (id) => {
        const target: Target = { method, path: () => path(encodeURIComponent(id)), key: () => t.actors[role] };
        const before = await databaseFingerprint(t.app.db);
        const response = await send(target, body, { 'if-match': '"1"' });
        expectCleanAnswer(response, `${method} ${path(id)}`);
        expect([400, 404], `${method} ${path(id)}: ${response.text}`).toContain(response.status);
        expect(await databaseFingerprint(t.app.db)).toEqual(before);
      }),
      fuzzRuns(20),
    );
  });
});

describe('POST /v1/imports', { timeout: FUZZ_TEST_TIMEOUT_MS }, () => {
  const fixture = (name: string) => readFileSync(new URL(`./fixtures/imports/${name}`, import.meta.url), 'utf8');
  const cpjLines = fixture('cpj-killed.csv').trimEnd().split('\n');
  const cell = fc.oneof(
    anyText({ maxLength: 15 }),
    fc.constantFrom('"', '""', ',', '\n', '\r\n', '=cmd|', '2018', 'Killed', 'Syria', 'Murder'),
  );
  /** The CPJ fixture with some cells replaced (quotes, separators, line breaks, any text), or a made-up file. */
  const csvFile = fc.oneof(
    fc.array(fc.tuple(fc.nat({ max: cpjLines.length - 1 }), fc.nat({ max: 45 }), cell), { maxLength: 6 }).map((edits) => {
      const rows = cpjLines.map((line) => line.split(','));
      for (const [row, column, value] of edits) rows[row]![column] = value;
      return rows.map((row) => row.join(',')).join('\n');
    }),
    fc
      .array(fc.array(cell, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 })
      .map((rows) => rows.map((row) => row.join(',')).join('\r\n')),
  );
  const idempotencyKey = fc.option(fc.string({ unit: 'grapheme-ascii', maxLength: 30 }), { nil: undefined });

  async function expectCleanImport(search: string, body: string, contentType: string, key?: string) {
    const validQuery = isAcceptedInput(importQuerySchema, parseQuery(search), 'query'); // parsed as Express parses it
    const before = await databaseFingerprint(t.app.db);
    const headers: Record<string, string> = { 'content-type': contentType, ...(key === undefined ? {} : { 'idempotency-key': key }) };
    const response = await request(t.app, 'POST', `/v1/imports?${search}`, { key: t.actors.editor, rawBody: body, headers });
    const context = `POST /v1/imports?${search} (${contentType}) ${body.slice(0, 300)}`;
    expectCleanAnswer(response, context);
    if (!validQuery) expect(response.status, context).toBe(400);
    if (response.status >= 400) expect(await databaseFingerprint(t.app.db), context).toEqual(before);
  }

  it('answers every CSV upload cleanly and writes nothing when it refuses one', async () => {
    const query = queryInput(importQuerySchema).map(({ search }) => search);
    await fc.assert(
      fc.asyncProperty(query, csvFile, idempotencyKey, async (search, csv, key) => {
        await expectCleanImport(search, csv, 'text/csv', key);
      }),
      fuzzRuns(80),
    );
  });

  it('answers every JSON upload with a mapping cleanly and writes nothing when it refuses one', async () => {
    // A date format is checked by compiling it; random text almost never compiles.
    const overrides = new Map([
      [importMappingSchema.shape.date.shape.formats.element, fc.constantFrom('DD/MM/YYYY', 'YYYY-MM', 'YYYY', 'D MMMM YYYY')],
    ]);
    const sample = { csv: fixture('mapped-tracker.csv'), mapping: JSON.parse(fixture('mapped-tracker.mapping.json')) };
    const bodies = fc.oneof(
      validInput(importJsonBodySchema, { overrides }),
      invalidInput(importJsonBodySchema, { overrides }),
      invalidInput(importJsonBodySchema, { overrides: new Map([[importJsonBodySchema, fc.constant(sample)]]) }),
    );
    await fc.assert(
      fc.asyncProperty(
        bodies,
        fc.constantFrom('format=mapped', 'format=mapped&dryRun=true', 'format=native', 'format=mapped&onError=skip'),
        async (body, search) => {
          await expectCleanImport(search, JSON.stringify(body) ?? '', 'application/json');
        },
      ),
      fuzzRuns(100),
    );
  });
});
