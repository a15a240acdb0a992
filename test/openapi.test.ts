import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../src/openapi/openapi.document.ts';

/**
 * The document's own contract for generated clients (npm run lint:openapi runs Redocly's
 * recommended rules over it in CI): every operation has a stable, unique camelCase operationId,
 * which generated SDKs use as method names, and documents at least one 4xx answer.
 */
const document = openApiDocument() as {
  servers?: Array<{ url: string }>;
  paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>>;
};
const operations = Object.entries(document.paths).flatMap(([path, byMethod]) =>
  Object.entries(byMethod).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, ...operation })),
);

describe('the OpenAPI document', () => {
  it('names the server it is served from', () => {
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
  });

  it.each(operations.map((operation) => [operation.route, operation] as const))(
    '%s has a camelCase operationId and a 4xx answer',
    (_route, operation) => {
      expect(operation.operationId).toMatch(/^[a-z]+(?:[A-Z][a-z]+)+$/);
      expect(Object.keys(operation.responses).some((status) => /^4\d\d$/.test(status))).toBe(true);
    },
  );

  it('never gives two operations the same operationId', () => {
    const ids = operations.map((operation) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps the operationIds clients were generated with', () => {
    expect(Object.fromEntries(operations.map((operation) => [operation.route, operation.operationId]))).toMatchObject({
      'GET /v1/incidents': 'listIncidents',
      'GET /v1/incidents/{id}': 'getIncident',
      'POST /v1/incidents': 'createIncident',
      'PATCH /v1/incidents/{id}': 'updateIncident',
      'DELETE /v1/incidents/{id}': 'deleteIncident',
      'GET /v1/stats': 'getStatistics',
      'POST /v1/imports': 'createImport',
      'POST /v1/keys': 'createApiKey',
    });
  });
});
