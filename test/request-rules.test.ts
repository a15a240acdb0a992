import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { incidentBody } from './support/factories.ts';
import { appRoutes } from './support/route-table.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * The rules every route shares, as a newcomer meets them: a body in another type than JSON is a
 * 415 naming application/json; a missing body reads as an empty one, so the missing fields are
 * named; a query error names the parameter as written; and no route ignores a parameter it does
 * not know.
 */
const t = useTestApp();

const createIncident = async () => (await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body: incidentBody() })).body;

describe('bodies in another type than JSON', () => {
  it.each([
    ['POST', '/v1/incidents', 'editor', 'text/plain'],
    ['POST', '/v1/incidents', 'editor', 'text/plain; charset=utf-8'],
    ['PATCH', '/v1/incidents/:id', 'editor', 'text/plain'],
    ['POST', '/v1/organisations', 'admin', 'application/x-www-form-urlencoded'],
    ['POST', '/v1/keys', 'admin', 'text/csv'],
  ] as const)('%s %s as %s in %s: 415 naming application/json', async (method, path, role, type) => {
    const { id } = await createIncident();
    const response = await request(t.app, method, path.replace(':id', id), {
      key: t.actors[role],
      rawBody: JSON.stringify({ title: 'Sent as text' }),
      headers: { 'content-type': type },
    });
    expect(response.status).toBe(415);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ type: '/problems/unsupported-media-type', status: 415 });
    expect(response.body.detail).toContain('Content-Type: application/json');
  });

  it('a body without any Content-Type: 415 too', async () => {
    const response = await fetch(`${t.app.url}/v1/incidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.actors.editor}` },
      body: new Uint8Array(Buffer.from(JSON.stringify(incidentBody()))),
    });
    expect(response.status).toBe(415);
  });

  it('a request without a body passes whatever its Content-Type (publish needs none)', async () => {
    const { id } = await createIncident();
    const response = await request(t.app, 'POST', `/v1/incidents/${id}/publish`, {
      key: t.actors.reviewer,
      rawBody: '',
      headers: { 'content-type': 'text/plain' },
    });
    expect(response.status).toBe(200);
    expect(response.body.visibility).toBe('published');
  });

  it('imports keep their own types: CSV is read, not refused', async () => {
    const response = await request(t.app, 'POST', '/v1/imports?format=native&dryRun=true', {
      key: t.actors.editor,
      rawBody: 'title\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(response.status).not.toBe(415);
    expect(response.body.type).not.toBe('/problems/unsupported-media-type');
  });
});

describe('missing bodies and fields', () => {
  it('DELETE without a body: "a reason is required" at /reason', async () => {
    const { id } = await createIncident();
    const response = await request(t.app, 'DELETE', `/v1/incidents/${id}`, { key: t.actors.editor });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ pointer: '/reason', detail: 'a reason is required' }]);
  });

  it('DELETE with a body but no reason: the same', async () => {
    const { id, version } = await createIncident();
    const response = await request(t.app, 'DELETE', `/v1/incidents/${id}`, { key: t.actors.editor, body: { version } });
    expect(response.body.errors).toEqual([{ pointer: '/reason', detail: 'a reason is required' }]);
  });

  it('POST without a body names each missing field, not the body', async () => {
    const response = await request(t.app, 'POST', '/v1/organisations', { key: t.actors.admin });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ pointer: '/name' })]);
  });

  it('a body of JSON null is still not an object', async () => {
    const response = await request(t.app, 'POST', '/v1/organisations', { key: t.actors.admin, rawBody: 'null' });
    expect(response.body.errors).toEqual([expect.objectContaining({ pointer: '' })]);
  });
});

describe('query parameters', () => {
  it('an error in a list names the parameter, not its item', async () => {
    const response = await request(t.app, 'GET', '/v1/incidents?country=TR,tr,XX');
    expect(response.status).toBe(400);
    expect(response.body.errors.map((error: { parameter: string }) => error.parameter)).toEqual(expect.arrayContaining(['country']));
    expect(response.body.errors.every((error: { parameter: string }) => error.parameter === 'country')).toBe(true);
  });

  /** Every route, with a caller allowed to reach its parameter check. */
  const callers: Record<string, { role?: 'admin' | 'editor' | 'reviewer'; query?: string }> = {
    'GET /healthz': {},
    'GET /readyz': {},
    'GET /v1/incidents': {},
    'GET /v1/incidents/export': {},
    'POST /v1/incidents': { role: 'editor' },
    'GET /v1/incidents/:id': {},
    'PATCH /v1/incidents/:id': { role: 'editor' },
    'DELETE /v1/incidents/:id': { role: 'editor' },
    'POST /v1/incidents/:id/verification': { role: 'reviewer' },
    'POST /v1/incidents/:id/publish': { role: 'reviewer' },
    'POST /v1/incidents/:id/unpublish': { role: 'reviewer' },
    'GET /v1/incidents/:id/history': {},
    'GET /v1/incidents/:id/audit': {},
    'GET /v1/incidents/:id/duplicates': {},
    'POST /v1/incidents/:id/merge': { role: 'reviewer' },
    'POST /v1/imports': { role: 'editor', query: 'format=native&' },
    'GET /v1/imports': { role: 'editor' },
    'GET /v1/imports/:id': { role: 'editor' },
    'POST /v1/imports/:id/publish': { role: 'reviewer' },
    'GET /v1/stats': {},
    'GET /v1/organisations': { role: 'admin' },
    'POST /v1/organisations': { role: 'admin' },
    'GET /v1/organisations/:id/sharing': { role: 'admin' },
    'PUT /v1/organisations/:id/sharing': { role: 'admin' },
    'GET /v1/access-groups': { role: 'admin' },
    'POST /v1/access-groups': { role: 'admin' },
    'PATCH /v1/access-groups/:id': { role: 'admin' },
    'DELETE /v1/access-groups/:id': { role: 'admin' },
    'PUT /v1/access-groups/:id/members/:keyId': { role: 'admin' },
    'DELETE /v1/access-groups/:id/members/:keyId': { role: 'admin' },
    'GET /v1/incidents/:id/access-groups': { role: 'admin' },
    'PUT /v1/incidents/:id/access-groups': { role: 'admin' },
    'PUT /v1/incidents/:id/victims/:victimId/access-groups': { role: 'admin' },
    'GET /v1/keys': { role: 'admin' },
    'POST /v1/keys': { role: 'admin' },
    'DELETE /v1/keys/:id': { role: 'admin' },
    'POST /v1/keys/:id/rotate': { role: 'admin' },
    'GET /v1/audit': { role: 'admin' },
    'GET /v1/audit/head': { role: 'admin' },
    'GET /v1/incidents/feed.atom': {},
    'POST /v1/webhooks': { role: 'editor' },
    'GET /v1/webhooks': { role: 'editor' },
    'GET /v1/webhooks/:id': { role: 'editor' },
    'PATCH /v1/webhooks/:id': { role: 'editor' },
    'DELETE /v1/webhooks/:id': { role: 'editor' },
    'POST /v1/webhooks/:id/rotate-secret': { role: 'editor' },
    'GET /v1/webhooks/:id/deliveries': { role: 'editor' },
    'POST /v1/webhooks/:id/deliveries/:deliveryId/redeliver': { role: 'editor' },
    'POST /v1/webhooks/:id/redeliver': { role: 'editor' },
  };
  // Documents, not API operations: the OpenAPI document and its viewer.
  const notApi = ['GET /docs', 'GET /openapi.json'];

  it('the table covers every route of the app', () => {
    const routes = appRoutes(createApp({ db: t.app.db, config: loadConfig({ LOG_LEVEL: 'silent' }), logger: createLogger('silent') }));
    expect(routes.filter((route) => !notApi.includes(route)).sort()).toEqual(Object.keys(callers).sort());
  });

  it.each(Object.entries(callers))('%s refuses an unknown parameter with 400 naming it', async (route, caller) => {
    const [method, path] = route.split(' ') as [string, string];
    const response = await request(t.app, method, `${path.replace(/:\w+/g, () => randomUUID())}?${caller.query ?? ''}colour=blue`, {
      key: caller.role ? t.actors[caller.role] : undefined,
    });
    expect(response.status, response.text).toBe(400);
    expect(response.body.errors).toContainEqual({ parameter: 'colour', detail: 'unknown parameter' });
  });
});
