import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { systemActor } from '../src/auth/actor.ts';
import { setVisibility } from '../src/incidents/incident.service.ts';
import { createLogger } from '../src/logger.ts';
import { pruneDeliveries, startDeliveryWorker, type DeliveryWorker } from '../src/webhooks/delivery-worker.ts';
import { isPublicAddress, resolveSafely, urlFormProblem } from '../src/webhooks/url-safety.ts';
import { sendWebhook } from '../src/webhooks/webhook-sender.ts';
import { incidentBody } from './support/factories.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * Webhooks end to end: a receiver on loopback (WEBHOOKS_ALLOW_PRIVATE=true), the delivery
 * worker with a schedule of fractions of a second, and every delivery verified with the official
 * `standardwebhooks` package. Covers registration and its rules, role-shaped payloads, the
 * outbox (a rolled-back write emits nothing), retries with one webhook-id, order per incident,
 * 410 and failures disabling the endpoint, rotation, the delivery log and redelivery.
 */
const t = useTestApp({ WEBHOOKS_ALLOW_PRIVATE: 'true' });

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; data: { incidentId: string; incident?: Record<string, any>; mergedInto?: string } };
}

/** The receiver: records every request; `answer` decides the status per path. */
const received: Received[] = [];
let answer: (path: string, count: number) => number = () => 204;
let receiver: Server;
let receiverUrl: string;
let worker: DeliveryWorker;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body, json: JSON.parse(body) });
      const status = answer(path, received.filter((r) => r.path === path).length);
      if (path === '/hang') return; // never answers
      if (path === '/endless') {
        // An answer that never ends: the sender must stop reading after 64 kB, not at the timeout.
        res.writeHead(200);
        const timer = setInterval(() => res.write('y'.repeat(16_384)), 1);
        res.on('close', () => clearInterval(timer));
        return;
      }
      if (status === 302) res.writeHead(302, { location: `${receiverUrl}/redirected` }).end();
      else res.writeHead(status).end('x'.repeat(status === 200 ? 200_000 : 10)); // a long answer is cut at 64 kB
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  worker = startDeliveryWorker({
    db: t.app.db,
    logger: createLogger('silent'),
    allowPrivate: true,
    timeoutMs: 2000,
    retryScheduleSeconds: [0.1, 0.1, 0.1],
    pollMs: 50,
  });
});

afterAll(async () => {
  await worker?.stop();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

beforeEach(() => {
  answer = () => 204;
});

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function register(key: string, path: string, body: Record<string, unknown> = {}) {
  const response = await request(t.app, 'POST', '/v1/webhooks', {
    key,
    body: {
      url: `${receiverUrl}${path}`,
      eventTypes: [
        'incident.published',
        'incident.updated',
        'incident.unpublished',
        'incident.deleted',
        'incident.verification_changed',
        'incident.merged',
      ],
      ...body,
    },
  });
  expect(response.status, response.text).toBe(201);
  return response.body as { id: string; secret: string };
}

async function createIncident(overrides: Record<string, unknown> = {}) {
  const created = await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body: incidentBody(overrides) });
  expect(created.status, created.text).toBe(201);
  return created.body.id as string;
}

const publish = async (id: string) =>
  expect((await request(t.app, 'POST', `/v1/incidents/${id}/publish`, { key: t.actors.reviewer })).status).toBe(200);
const at = (path: string) => received.filter((r) => r.path === path);
const verify = (secret: string, delivery: Received) =>
  new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>) as Received['json'];

describe('registering an endpoint', () => {
  it('is for editor, reviewer and researcher keys; the secret is shown once', async () => {
    const created = await register(t.actors.editor, '/register');
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const read = await request(t.app, 'GET', `/v1/webhooks/${created.id}`, { key: t.actors.editor });
    expect(read.status).toBe(200);
    expect(read.text).not.toContain(created.secret.slice(6));
    expect((await request(t.app, 'GET', '/v1/webhooks', { key: t.actors.editor })).body.data.map((w: { id: string }) => w.id)).toContain(
      created.id,
    );
    // Another key, even of the same organisation, does not see it.
    expect((await request(t.app, 'GET', `/v1/webhooks/${created.id}`, { key: t.actors.reviewer })).status).toBe(404);
    expect(
      (await request(t.app, 'POST', '/v1/webhooks', { body: { url: 'https://example.org/', eventTypes: ['incident.published'] } })).status,
    ).toBe(401);
    expect(
      (
        await request(t.app, 'POST', '/v1/webhooks', {
          key: t.actors.admin,
          body: { url: 'https://example.org/', eventTypes: ['incident.published'] },
        })
      ).status,
    ).toBe(403);
    const audit = await t.app.db.selectFrom('audit_log').select(['action', 'after']).where('entity_id', '=', created.id).execute();
    expect(audit.map((row) => row.action)).toEqual(['webhook.create']);
    expect(JSON.stringify(audit)).not.toContain(created.secret.slice(6));
    expect((await request(t.app, 'DELETE', `/v1/webhooks/${created.id}`, { key: t.actors.editor })).status).toBe(204);
  });

  it("checks the event types and the filter, in the list's filter language", async () => {
    const types = await request(t.app, 'POST', '/v1/webhooks', {
      key: t.actors.otherEditor,
      body: { url: `${receiverUrl}/x`, eventTypes: ['incident.created'] },
    });
    expect(types.status).toBe(400);
    expect(types.body.errors[0].pointer).toBe('/eventTypes/0');
    const bad = await request(t.app, 'POST', '/v1/webhooks', {
      key: t.actors.otherEditor,
      body: { url: `${receiverUrl}/x`, eventTypes: ['incident.published'], filter: 'country=XX&colour=red' },
    });
    expect(bad.status).toBe(400);
    const details = (bad.body.errors as { pointer: string; detail: string }[]).map((e) => `${e.pointer} ${e.detail}`);
    const researcherFilter = await request(t.app, 'POST', '/v1/webhooks', {
      key: t.actors.researcher,
      body: { url: `${receiverUrl}/x`, eventTypes: ['incident.published'], filter: 'hasProtectedVictims=true' },
    });
    expect(researcherFilter.status).toBe(400);
    expect(researcherFilter.body.errors[0].detail).toMatch(/^hasProtectedVictims: only editors and reviewers/);
    expect(details.some((d) => d.startsWith('/filter country'))).toBe(true);
    expect(details.some((d) => d.startsWith('/filter colour: unknown parameter'))).toBe(true);
  });

  it('refuses URLs that are not https or that reach private, loopback or link-local addresses (unless allowed)', async () => {
    expect(urlFormProblem('http://example.org/hook', false)).toBe('use an https:// URL');
    expect(urlFormProblem('https://example.org/hook', false)).toBeUndefined();
    for (const url of [
      'https://127.0.0.1/',
      'https://10.1.2.3/',
      'https://[::1]/',
      'https://169.254.169.254/latest',
      'https://[fe80::1]/',
      'https://192.168.1.1/',
      'https://[::ffff:127.0.0.1]/',
      'https://localhost/',
    ]) {
      expect(urlFormProblem(url, false), url).toBeDefined();
      expect(urlFormProblem(url, true), url).toBeUndefined();
    }
    expect(isPublicAddress('93.184.215.14')).toBe(true);
    expect(isPublicAddress('2606:4700::1111')).toBe(true);
    expect(isPublicAddress('100.64.0.1')).toBe(false);
    // At delivery too: a name is resolved and every address checked (DNS rebinding).
    await expect(resolveSafely('https://localhost./hook', false)).rejects.toThrow(/private|loopback|resolve|local/);
    await expect(resolveSafely(`${receiverUrl}/x`, true)).resolves.toMatchObject({ address: '127.0.0.1' });
  });
});

describe('one attempt', () => {
  it('gives up at the timeout, reads at most 64 kB of an answer, and follows no redirect', async () => {
    const send = (path: string, timeoutMs = 2000) =>
      sendWebhook(`${receiverUrl}${path}`, { 'webhook-id': 'msg_test' }, '{"type":"test"}', { allowPrivate: true, timeoutMs });
    const hung = await send('/hang', 300);
    expect(hung).toMatchObject({ ok: false, statusCode: null, error: 'timeout after 300 ms' });
    expect(hung.latencyMs).toBeLessThan(2000);
    answer = () => 200; // the receiver answers 200 with a 200 kB body
    expect(await send('/big')).toMatchObject({ ok: true, statusCode: 200, error: null });
    const endless = await send('/endless', 5000);
    expect(endless).toMatchObject({ ok: true, statusCode: 200, error: null });
    expect(endless.latencyMs).toBeLessThan(4000);
    answer = () => 302;
    expect(await send('/moved')).toMatchObject({ ok: false, statusCode: 302 });
    expect(at('/redirected')).toEqual([]);
    // Without the relaxation, the loopback receiver is refused before any connection.
    const refused = await sendWebhook(`${receiverUrl}/never`, {}, '{}', { allowPrivate: false, timeoutMs: 1000 });
    expect(refused).toMatchObject({ ok: false, statusCode: null });
    expect(refused.error).toMatch(/^refused: /);
    expect(at('/never')).toEqual([]);
  });
});

describe('deliveries', () => {
  it('tell the importing organisation that an import completed', async () => {
    const mine = await register(t.actors.reviewer, '/imports', { eventTypes: ['import.completed'] });
    await register(t.actors.otherEditor, '/imports-other', { eventTypes: ['import.completed'] });
    const csv = readFileSync(new URL('./fixtures/imports/cpj-killed.csv', import.meta.url), 'utf8')
      .split('\n')
      .slice(0, 3)
      .join('\n');
    const imported = await request(t.app, 'POST', '/v1/imports?format=cpj', {
      key: t.actors.editor,
      rawBody: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(imported.status, imported.text).toBe(201);
    const delivery = await until('import.completed', () => at('/imports').find((r) => r.json.type === 'import.completed'));
    expect(verify(mine.secret, delivery).data).toEqual({
      importId: imported.body.id,
      format: 'cpj',
      counts: { rows: 2, created: 2, rejected: 0 },
    });
    await worker.idle();
    expect(at('/imports-other')).toEqual([]);
  });

  it('are signed per Standard Webhooks and shaped exactly as a GET by the registering key', async () => {
    const own = await register(t.actors.editor, '/own');
    const researcher = await register(t.actors.researcher, '/researcher');
    const other = await register(t.actors.otherEditor, '/other');
    const id = await createIncident({ internalNotes: 'NOTES-FOR-OWNERS-ONLY' });
    await publish(id);
    for (const [path, secret, key] of [
      ['/own', own.secret, t.actors.editor],
      ['/researcher', researcher.secret, t.actors.researcher],
      ['/other', other.secret, t.actors.otherEditor],
    ] as const) {
      const delivery = await until(`a delivery to ${path}`, () =>
        at(path).find((r) => r.json.data.incidentId === id && r.json.type === 'incident.published'),
      );
      const payload = verify(secret, delivery);
      expect(delivery.headers['webhook-id']).toMatch(/^msg_/);
      const get = await request(t.app, 'GET', `/v1/incidents/${id}`, { key });
      expect(payload.data.incident, path).toEqual(get.body);
      expect(() => verify(other.secret === secret ? own.secret : other.secret, delivery)).toThrow();
    }
    expect(at('/own').find((r) => r.json.data.incidentId === id)!.body).toContain('NOTES-FOR-OWNERS-ONLY');
    expect(at('/researcher').find((r) => r.json.data.incidentId === id)!.body).not.toContain('NOTES-FOR-OWNERS-ONLY');
    expect(at('/other').find((r) => r.json.data.incidentId === id)!.body).not.toContain('Secret Witness Name');
    // A draft's changes reach only those who may read drafts: never another organisation's editor,
    // and another organisation's researcher only once the owner shares its drafts (README, "Sharing and access groups").
    const draft = await createIncident({ title: 'DRAFT-FOR-OWNERS' });
    const retitle = async (title: string) => {
      const current = await request(t.app, 'GET', `/v1/incidents/${draft}`, { key: t.actors.editor });
      await request(t.app, 'PATCH', `/v1/incidents/${draft}`, { key: t.actors.editor, body: { title, version: current.body.version } });
    };
    await retitle('DRAFT-FOR-OWNERS retitled');
    await worker.idle();
    expect(at('/researcher').some((r) => r.json.data.incidentId === draft)).toBe(false);
    const shared = await request(t.app, 'PUT', `/v1/organisations/${t.actors.ownOrganisation.id}/sharing`, {
      key: t.actors.admin,
      body: { sharedWith: 'all-researchers' },
    });
    expect(shared.status).toBe(200);
    await retitle('DRAFT-FOR-OWNERS shared');
    await until('the draft update', () => at('/researcher').find((r) => r.json.data.incidentId === draft));
    await worker.idle();
    expect(at('/other').some((r) => r.body.includes('DRAFT-FOR-OWNERS'))).toBe(false);
    for (const endpoint of [own, researcher, other])
      await request(t.app, 'DELETE', `/v1/webhooks/${endpoint.id}`, {
        key: endpoint === own ? t.actors.editor : endpoint === researcher ? t.actors.researcher : t.actors.otherEditor,
      });
  });

  it('come from a transactional outbox: a rolled-back write emits nothing, a committed one its event', async () => {
    const endpoint = await register(t.actors.editor, '/outbox');
    const id = await createIncident();
    const before = await t.app.db
      .selectFrom('webhook_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('incident_id', '=', id)
      .executeTakeFirstOrThrow();
    const reviewer = await t.app.db
      .selectFrom('api_keys')
      .select('id')
      .where('organisation_id', '=', t.actors.ownOrganisation.id)
      .where('role', '=', 'reviewer')
      .executeTakeFirstOrThrow();
    const context = {
      actor: { ...systemActor('seed', { organisationId: t.actors.ownOrganisation.id, role: 'reviewer' }) },
      requestId: null,
    };
    await expect(
      t.app.db.transaction().execute(async (trx) => {
        await setVisibility(trx, context, id, 'published', undefined);
        throw new Error('rolled back on purpose');
      }),
    ).rejects.toThrow('rolled back on purpose');
    const after = await t.app.db
      .selectFrom('webhook_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('incident_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    await worker.tick();
    await worker.idle();
    expect(at('/outbox').filter((r) => r.json.data.incidentId === id)).toEqual([]);
    expect(reviewer.id).toBeTruthy();
    await publish(id);
    await until('the committed publish', () =>
      at('/outbox').find((r) => r.json.data.incidentId === id && r.json.type === 'incident.published'),
    );
    await request(t.app, 'DELETE', `/v1/webhooks/${endpoint.id}`, { key: t.actors.editor });
  });

  it('are retried with the same webhook-id, in order per incident, and logged for the owner', async () => {
    const endpoint = await register(t.actors.editor, '/flaky');
    answer = (_path, count) => (count <= 2 ? 500 : 200);
    const id = await createIncident();
    await publish(id);
    let version = (await request(t.app, 'GET', `/v1/incidents/${id}`, { key: t.actors.editor })).body.version as number;
    for (const n of [1, 2, 3]) {
      const patched = await request(t.app, 'PATCH', `/v1/incidents/${id}`, {
        key: t.actors.editor,
        body: { title: `Corrected ${n}`, version },
      });
      version = patched.body.version;
    }
    const all = await until('four deliveries', () => {
      const got = at('/flaky').filter((r) => r.json.data.incidentId === id);
      return new Set(got.map((r) => r.headers['webhook-id'])).size === 4 && got.length >= 6 ? got : undefined;
    });
    const first = all.filter((r) => r.json.type === 'incident.published');
    expect(first.length).toBe(3); // two failures, then success
    expect(new Set(first.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const attempt of first) verify(endpoint.secret, attempt);
    // Order per incident: each later event only after the one before it succeeded.
    const succeededOrder = [...new Map(all.map((r) => [r.headers['webhook-id'], r.json])).values()];
    expect(succeededOrder.map((json) => json.type)).toEqual([
      'incident.published',
      'incident.updated',
      'incident.updated',
      'incident.updated',
    ]);
    expect(succeededOrder.slice(1).map((json) => json.data.incident!.title)).toEqual(
      ['Corrected 3', 'Corrected 3', 'Corrected 3'].map((title, i) => (i === 2 ? title : expect.any(String))),
    );
    const log = await request(t.app, 'GET', `/v1/webhooks/${endpoint.id}/deliveries`, { key: t.actors.editor });
    expect(log.status).toBe(200);
    const published = (
      log.body.data as { id: string; eventType: string; attempts: number; status: string; lastStatusCode: number; lastLatencyMs: number }[]
    ).find((d) => d.eventType === 'incident.published')!;
    expect(published).toMatchObject({ status: 'succeeded', attempts: 3, lastStatusCode: 200, id: first[0]!.headers['webhook-id'] });
    expect(published.lastLatencyMs).toBeGreaterThanOrEqual(0);
    expect((await request(t.app, 'GET', `/v1/webhooks/${endpoint.id}/deliveries`, { key: t.actors.otherEditor })).status).toBe(404);

    // Redelivery: one, then all since a time; same webhook-id.
    const count = at('/flaky').length;
    const again = await request(t.app, 'POST', `/v1/webhooks/${endpoint.id}/deliveries/${published.id}/redeliver`, {
      key: t.actors.editor,
    });
    expect(again.status, again.text).toBe(202);
    const resent = await until('the redelivery', () =>
      at('/flaky')
        .slice(count)
        .find((r) => r.headers['webhook-id'] === published.id),
    );
    verify(endpoint.secret, resent);
    const since = await request(t.app, 'POST', `/v1/webhooks/${endpoint.id}/redeliver`, {
      key: t.actors.editor,
      body: { since: '2000-01-01T00:00:00Z' },
    });
    expect(since.body.redelivered).toBe(4);
    await until(
      'all four again',
      () =>
        new Set(
          at('/flaky')
            .slice(count + 1)
            .map((r) => r.headers['webhook-id']),
        ).size === 4 || undefined,
    );
    await request(t.app, 'DELETE', `/v1/webhooks/${endpoint.id}`, { key: t.actors.editor });
  });

  it("follow the endpoint's filter", async () => {
    await register(t.actors.editor, '/syria', { filter: 'country=SY&victimOutcome=killed' });
    const turkey = await createIncident({ location: { country: 'TR' } });
    const syria = await createIncident({
      location: { country: 'SY' },
      attackTypes: ['killing'],
      victims: [{ name: 'A Reporter', role: 'journalist', outcome: 'killed' }],
    });
    await publish(turkey);
    await publish(syria);
    await until('the Syrian incident', () => at('/syria').find((r) => r.json.data.incidentId === syria));
    await worker.idle();
    expect(at('/syria').some((r) => r.json.data.incidentId === turkey)).toBe(false);
  });

  it("sign with both secrets during a rotation's overlap, then with the new one", async () => {
    const endpoint = await register(t.actors.editor, '/rotate', { eventTypes: ['incident.published'] });
    const rotated = await request(t.app, 'POST', `/v1/webhooks/${endpoint.id}/rotate-secret`, {
      key: t.actors.editor,
      body: { overlapSeconds: 3600 },
    });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    expect(rotated.body.secrets).toHaveLength(2);
    const id = await createIncident();
    await publish(id);
    const delivery = await until('a delivery', () => at('/rotate').find((r) => r.json.data.incidentId === id));
    expect(String(delivery.headers['webhook-signature']).split(' ')).toHaveLength(2);
    verify(endpoint.secret, delivery);
    verify(rotated.body.secret, delivery);
    await request(t.app, 'POST', `/v1/webhooks/${endpoint.id}/rotate-secret`, { key: t.actors.editor, body: { overlapSeconds: 0 } });
    const second = await createIncident();
    await publish(second);
    const next = await until('a delivery', () => at('/rotate').find((r) => r.json.data.incidentId === second));
    expect(String(next.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => verify(rotated.body.secret, next)).toThrow();
    const audit = await t.app.db.selectFrom('audit_log').select('action').where('entity_id', '=', endpoint.id).orderBy('id').execute();
    expect(audit.map((row) => row.action)).toEqual(['webhook.create', 'webhook.rotate_secret', 'webhook.rotate_secret']);
  });

  it('410 Gone disables the endpoint; so do failed attempts with no success in between; redirects are not followed', async () => {
    const gone = await register(t.actors.editor, '/gone', { eventTypes: ['incident.published'] });
    const failing = await register(t.actors.editor, '/failing', { eventTypes: ['incident.published'] });
    const redirecting = await register(t.actors.editor, '/redirect', { eventTypes: ['incident.published'] });
    answer = (path) => (path === '/gone' ? 410 : path === '/failing' ? 503 : path === '/redirect' ? 302 : 204);
    const id = await createIncident();
    await publish(id);
    const disabled = async (endpointId: string) => {
      const read = await request(t.app, 'GET', `/v1/webhooks/${endpointId}`, { key: t.actors.editor });
      return read.body.enabled === false ? read.body : undefined;
    };
    expect((await until('410 to disable', () => disabled(gone.id))).disabledReason).toMatch(/410/);
    expect((await until('failures to disable', () => disabled(failing.id))).disabledReason).toMatch(
      /4 consecutive failed attempts.*HTTP 503/,
    );
    expect((await until('redirects to disable', () => disabled(redirecting.id))).disabledReason).toMatch(/HTTP 302/);
    expect(at('/redirected')).toEqual([]);
    expect(at('/failing').length).toBe(4);
    const audit = await t.app.db
      .selectFrom('audit_log')
      .select(['action', 'actor_role'])
      .where('entity_id', '=', gone.id)
      .orderBy('id')
      .execute();
    expect(audit.at(-1)).toEqual({ action: 'webhook.disable', actor_role: 'system:webhook-worker' });
    // Enabled again, the pending delivery goes out.
    answer = () => 204;
    const count = at('/gone').length;
    expect((await request(t.app, 'PATCH', `/v1/webhooks/${gone.id}`, { key: t.actors.editor, body: { enabled: true } })).body.enabled).toBe(
      true,
    );
    await until('the pending delivery', () => at('/gone').length > count || undefined);
  });

  it('are kept 30 days once finished, pending ones for as long as they wait', async () => {
    const count = async () =>
      Number(
        (
          await t.app.db
            .selectFrom('webhook_deliveries')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const total = await count();
    const old = await t.app.db.selectFrom('webhook_deliveries').select(['id', 'status']).orderBy('created_at').limit(2).execute();
    expect(old).toHaveLength(2);
    await t.app.db
      .updateTable('webhook_deliveries')
      .set({ created_at: new Date(Date.now() - 31 * 86_400_000), status: 'succeeded' })
      .where('id', '=', old[0]!.id)
      .execute();
    await t.app.db
      .updateTable('webhook_deliveries')
      .set({ created_at: new Date(Date.now() - 31 * 86_400_000), status: 'pending', next_attempt_at: new Date(Date.now() + 86_400_000) })
      .where('id', '=', old[1]!.id)
      .execute();
    await pruneDeliveries(t.app.db, 30);
    expect(await count()).toBe(total - 1);
    const left = await t.app.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where(
        'id',
        'in',
        old.map((row) => row.id),
      )
      .execute();
    expect(left.map((row) => row.id)).toEqual([old[1]!.id]);
  });
});
