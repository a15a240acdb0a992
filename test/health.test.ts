import { describe, expect, it } from 'vitest';
import { request, useTestApp } from './support/test-app.ts';

const t = useTestApp({}, { actors: false });

describe('health and docs', () => {
  it('reports the process up and the database reachable', async () => {
    expect((await request(t.app, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await request(t.app, 'GET', '/readyz')).body).toEqual({ status: 'ready' });
  });

  it('echoes a caller-supplied request id and makes one up otherwise', async () => {
    const echoed = await request(t.app, 'GET', '/healthz', { headers: { 'x-request-id': 'trace-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('trace-123');
    const generated = await request(t.app, 'GET', '/healthz');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves an OpenAPI 3.1 document built from the schemas', async () => {
    const { status, body } = await request(t.app, 'GET', '/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    expect(Object.keys(body.paths)).toContain('/v1/incidents/{id}');
    expect(body.components.schemas.PublicIncident.properties).not.toHaveProperty('internalNotes');
    expect(body.components.schemas.CreateIncident.properties.attackTypes.items.enum).toContain('fabricated_claim');
  });

  it('answers unknown routes with problem+json', async () => {
    const response = await request(t.app, 'GET', '/v1/nope');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.body).toMatchObject({ type: '/problems/not-found', status: 404 });
  });
});
