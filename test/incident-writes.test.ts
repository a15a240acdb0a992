import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { readableAuditDocument } from '../src/audit/audit-documents.ts';
import { findActiveKeyByToken } from '../src/auth/api-key.queries.ts';
import { lockOwnIncident } from '../src/incidents/incident.queries.ts';
import { incidentBody } from './support/factories.ts';
import { request, useTestApp, type ApiResponse } from './support/test-app.ts';

/**
 * The write lifecycle over real HTTP: create, optimistic-locked PATCH, soft delete,
 * verification and publication, each leaving exactly one audit row in the same transaction.
 */
const t = useTestApp();

type Role = 'editor' | 'reviewer';
const send = (role: Role, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}) =>
  request(t.app, method, path, { key: t.actors[role], ...options });
const read = async (id: string) => (await send('editor', 'GET', `/v1/incidents/${id}`)).body;

/** The create response is the incident plus the duplicates flagged on create (test/duplicates.test.ts). */
const withoutDuplicates = ({ possibleDuplicates: _duplicates, ...incident }: Record<string, unknown>) => incident;

async function createIncident(overrides: Record<string, unknown> = {}) {
  const response = await send('editor', 'POST', '/v1/incidents', { body: incidentBody(overrides) });
  expect(response.status, response.text).toBe(201);
  return withoutDuplicates(response.body) as any;
}

/** Every incident id the editor's list shows, following nextCursor to the end. */
async function listedIds() {
  const ids: string[] = [];
  for (let cursor: string | null = ''; cursor !== null;) {
    const page = await send('editor', 'GET', `/v1/incidents${cursor ? `?cursor=${cursor}` : ''}`);
    expect(page.status, page.text).toBe(200);
    ids.push(...page.body.data.map((item: { id: string }) => item.id));
    cursor = page.body.nextCursor;
  }
  return ids;
}

const lastAuditId = async () =>
  Number(
    (
      await t.app.db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.max('id').as('id'))
        .executeTakeFirstOrThrow()
    ).id ?? 0,
  );
const auditRowsAfter = (id: number) => t.app.db.selectFrom('audit_log').selectAll().where('id', '>', id).orderBy('id').execute();

describe('create', () => {
  it('stores the incident with victims, claims and sources in one request and reads it back', async () => {
    const body = incidentBody({
      location: {
        country: 'MX',
        region: 'Veracruz',
        city: 'Xalapa',
        coordinates: { latitude: 19.54, longitude: -96.91, precision: 'city' },
      },
      attackTypes: ['killing', 'threat_harassment'],
      motive: 'work_related_unconfirmed',
      judicialOutcome: 'investigation_open',
      victims: [
        {
          name: 'Regina Martínez',
          nameOriginal: 'Regina Martínez Pérez',
          aliases: ['Regina'],
          role: 'journalist',
          gender: 'female',
          nationality: 'MX',
          outlet: 'Proceso',
          locality: 'local',
          employment: 'staff',
          outcome: 'killed',
        },
        { name: 'Hidden Witness', role: 'media_worker', outcome: 'threatened', protected: true },
      ],
      perpetratorClaims: [
        { actorName: 'Unknown', actorType: 'unknown', attribution: 'suspected_by_documenter' },
        {
          actorName: 'State police',
          actorType: 'police',
          attribution: 'alleged_by_others',
          attributedBy: 'Colleagues',
          statement: 'Officers were seen nearby.',
        },
      ],
      sources: [
        {
          url: 'https://example.org/a',
          publisher: 'Example',
          title: 'First report',
          publishedOn: '2012-04-29',
          kind: 'media_report',
          public: true,
        },
      ],
    });
    const created = await send('editor', 'POST', '/v1/incidents', { body });
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/incidents/${created.body.id}`);
    expect(created.headers.get('etag')).toBe('"1"');
    expect(created.body).toMatchObject({
      title: body.title,
      version: 1,
      verificationStatus: 'unverified',
      visibility: 'draft',
      publishedAt: null,
      organisation: { id: t.actors.ownOrganisation.id, name: t.actors.ownOrganisation.name },
      location: body.location,
      attackTypes: body.attackTypes,
      internalNotes: body.internalNotes,
      victims: [
        { ...body.victims[0], id: expect.any(String), protected: false },
        { name: 'Hidden Witness', protected: true, aliases: [], gender: null },
      ],
      perpetratorClaims: [{ ...body.perpetratorClaims[0], attributedBy: null, statement: null }, body.perpetratorClaims[1]],
      sources: [{ ...body.sources[0], id: expect.any(String) }],
    });
    expect(await read(created.body.id)).toEqual(withoutDuplicates(created.body));
    const positions = await t.app.db
      .selectFrom('victims')
      .select(['name', 'position'])
      .where('incident_id', '=', created.body.id)
      .orderBy('position')
      .execute();
    // A protected victim's name is encrypted at rest (test/encryption-at-rest.test.ts): null in its column.
    expect(positions).toEqual([
      { name: 'Regina Martínez', position: 0 },
      { name: null, position: 1 },
    ]);
  });
});

describe('PATCH and versions', () => {
  it('needs a version, takes it from If-Match or the body, and refuses a stale one', async () => {
    const incident = await createIncident();
    const path = `/v1/incidents/${incident.id}`;

    const missing = await send('editor', 'PATCH', path, { body: { title: 'No version' } });
    expect(missing.status).toBe(428);
    expect(missing.body).toMatchObject({ type: '/problems/precondition-required', currentVersion: 1 });

    const byHeader = await send('editor', 'PATCH', path, { body: { title: 'By header' }, headers: { 'if-match': '"1"' } });
    expect(byHeader.status, byHeader.text).toBe(200);
    expect(byHeader.body).toMatchObject({ title: 'By header', version: 2 });
    expect(byHeader.headers.get('etag')).toBe('"2"');

    const byBody = await send('editor', 'PATCH', path, { body: { title: 'By body', version: 2 } });
    expect(byBody.status, byBody.text).toBe(200);
    expect(byBody.body).toMatchObject({ title: 'By body', version: 3 });

    const stale = await send('editor', 'PATCH', path, { body: { title: 'Stale' }, headers: { 'if-match': '"2"' } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ type: '/problems/conflict', currentVersion: 3 });
    expect(await read(incident.id)).toEqual(byBody.body);
  });

  it.each<[string, Role, (id: string, n: number) => [string, string, Record<string, unknown>], string]>([
    [
      'PATCHes on the same version',
      'editor',
      (id, n) => ['PATCH', `/v1/incidents/${id}`, { title: `Writer ${n}`, version: 1 }],
      'incident.update',
    ],
    [
      'changes to the same status',
      'reviewer',
      (id, n) => ['POST', `/v1/incidents/${id}/verification`, { status: 'verified', note: `Reviewer ${n}` }],
      'incident.verification',
    ],
  ])('lets exactly one of two concurrent %s win', async (_name, role, describeRequest, action) => {
    const incident = await createIncident();
    const responses = await Promise.all(
      [1, 2].map((n) => {
        const [method, path, body] = describeRequest(incident.id, n);
        return send(role, method, path, { body });
      }),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([200, 409]);
    const winner = responses.find((response) => response.status === 200)!;
    const loser = responses.find((response) => response.status === 409)!;
    expect(loser.body).toMatchObject({ type: '/problems/conflict', currentVersion: 2 });
    const final = await read(incident.id);
    expect(final).toEqual(winner.body);
    expect(final.version).toBe(2);
    const audit = await t.app.db.selectFrom('audit_log').select('action').where('entity_id', '=', incident.id).orderBy('id').execute();
    expect(audit.map((row) => row.action)).toEqual(['incident.create', action]);
  });
});

describe('child lists', () => {
  it('replaces a list wholesale, keeps the id of an item sent back and leaves other lists alone', async () => {
    const incident = await createIncident();
    const [first, second] = incident.victims;
    const response = await send('editor', 'PATCH', `/v1/incidents/${incident.id}`, {
      body: {
        victims: [
          { ...second, name: 'Renamed' },
          { name: 'New victim', role: 'filmmaker' },
        ],
        sources: [],
      },
      headers: { 'if-match': '"1"' },
    });
    expect(response.status, response.text).toBe(200);
    expect(response.body.victims).toEqual([
      { ...second, name: 'Renamed' },
      expect.objectContaining({ id: expect.any(String), name: 'New victim', role: 'filmmaker', protected: false }),
    ]);
    expect([first.id, second.id]).not.toContain(response.body.victims[1].id);
    expect(response.body.sources).toEqual([]);
    expect(response.body.perpetratorClaims).toEqual(incident.perpetratorClaims);
    const victimRows = await t.app.db.selectFrom('victims').select('id').where('incident_id', '=', incident.id).execute();
    expect(victimRows.map((row) => row.id).sort()).toEqual(response.body.victims.map((v: { id: string }) => v.id).sort());
  });

  it.each<[string, (incident: any, other: any) => Record<string, unknown>, string]>([
    ['an unknown victim id', () => ({ victims: [{ id: crypto.randomUUID(), name: 'Ghost' }] }), '/victims/0/id'],
    ["another incident's victim id", (_incident, other) => ({ victims: [{ id: other.victims[0].id, name: 'Stolen' }] }), '/victims/0/id'],
    ['the same victim id twice', (incident) => ({ victims: [incident.victims[0], incident.victims[0]] }), '/victims/1/id'],
    [
      'an unknown source id',
      (incident) => ({ sources: [incident.sources[0], { id: crypto.randomUUID(), title: 'x', kind: 'other' }] }),
      '/sources/1/id',
    ],
    [
      'an unknown claim id',
      () => ({ perpetratorClaims: [{ id: crypto.randomUUID(), actorName: 'X', actorType: 'police', attribution: 'alleged_by_victim' }] }),
      '/perpetratorClaims/0/id',
    ],
  ])('rejects %s with 400 and changes nothing', async (_name, makeBody, pointer) => {
    const incident = await createIncident();
    const other = await createIncident();
    const mark = await lastAuditId();
    const response = await send('editor', 'PATCH', `/v1/incidents/${incident.id}`, {
      body: makeBody(incident, other),
      headers: { 'if-match': '"1"' },
    });
    expect(response.status, response.text).toBe(400);
    expect(response.body).toMatchObject({ type: '/problems/validation-failed', errors: [{ pointer, detail: expect.any(String) }] });
    expect(await read(incident.id)).toEqual(incident);
    expect(await read(other.id)).toEqual(other);
    expect(await auditRowsAfter(mark)).toEqual([]);
  });
});

describe('soft delete', () => {
  it.each<[string, unknown]>([
    ['no body', undefined],
    ['no reason', {}],
    ['a blank reason', { reason: '   ' }],
  ])('needs a reason (%s)', async (_name, body) => {
    const incident = await createIncident();
    const response = await send('editor', 'DELETE', `/v1/incidents/${incident.id}`, { body });
    expect(response.status).toBe(400);
    expect(response.body.type).toBe('/problems/validation-failed');
    expect(await read(incident.id)).toEqual(incident);
  });

  it('hides the incident from reads and lists but keeps the row and its audit trail', async () => {
    const incident = await createIncident();
    const path = `/v1/incidents/${incident.id}`;
    const response = await send('editor', 'DELETE', path, { body: { reason: 'Duplicate of an earlier record' } });
    expect(response.status, response.text).toBe(204);
    expect(response.text).toBe('');

    expect((await send('editor', 'GET', path)).status).toBe(404);
    expect((await send('editor', 'PATCH', path, { body: { title: 'Back' }, headers: { 'if-match': '"2"' } })).status).toBe(404);
    expect((await send('editor', 'DELETE', path, { body: { reason: 'again' } })).status).toBe(404);
    expect(await listedIds()).not.toContain(incident.id);

    const row = await t.app.db
      .selectFrom('incidents')
      .select(['deleted_at', 'deleted_reason', 'version'])
      .where('id', '=', incident.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ deleted_at: expect.any(Date), deleted_reason: 'Duplicate of an earlier record', version: 2 });
    const audit = await t.app.db
      .selectFrom('audit_log')
      .select(['action', 'before'])
      .where('entity_id', '=', incident.id)
      .orderBy('id')
      .execute();
    expect(audit.map((entry) => entry.action)).toEqual(['incident.create', 'incident.delete']);
    expect(readableAuditDocument(audit[1]!.before)).toEqual(incident);
    // The owning organisation can still read the trail, which holds the reason.
    const trail = await send('reviewer', 'GET', `${path}/audit`);
    expect(trail.status, trail.text).toBe(200);
    expect(trail.body.data.map((entry: { action: string }) => entry.action)).toEqual(['incident.create', 'incident.delete']);
    expect(trail.body.data[1].after).toMatchObject({ deletedReason: 'Duplicate of an earlier record' });
  });
});

describe('verification and publication', () => {
  it('records each verification change in the history and refuses a no-op change', async () => {
    const incident = await createIncident();
    const path = `/v1/incidents/${incident.id}`;
    const reviewerKey = await findActiveKeyByToken(t.app.db, t.actors.reviewer);
    const { name: reviewerName } = await t.app.db
      .selectFrom('api_keys')
      .select('name')
      .where('id', '=', reviewerKey!.id)
      .executeTakeFirstOrThrow();

    const review = await send('reviewer', 'POST', `${path}/verification`, { body: { status: 'under_review', note: 'Calling the outlet' } });
    expect(review.status, review.text).toBe(200);
    expect(review.body).toMatchObject({ verificationStatus: 'under_review', version: 2 });
    const verified = await send('reviewer', 'POST', `${path}/verification`, {
      body: { status: 'verified', note: 'Two sources confirm', version: 2 },
    });
    expect(verified.body).toMatchObject({ verificationStatus: 'verified', version: 3 });

    const mark = await lastAuditId();
    const again = await send('reviewer', 'POST', `${path}/verification`, { body: { status: 'verified', note: 'Still true' } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ type: '/problems/conflict', currentVersion: 3 });
    expect(await auditRowsAfter(mark)).toEqual([]);

    const history = await send('editor', 'GET', `${path}/history`);
    expect(history.status).toBe(200);
    expect(history.body.data).toEqual([
      {
        id: expect.any(String),
        from: 'unverified',
        to: 'under_review',
        note: 'Calling the outlet',
        changedBy: reviewerName,
        changedAt: expect.any(String),
      },
      {
        id: expect.any(String),
        from: 'under_review',
        to: 'verified',
        note: 'Two sources confirm',
        changedBy: reviewerName,
        changedAt: expect.any(String),
      },
    ]);
  });

  it('publishes and unpublishes, and publishing twice writes nothing', async () => {
    const incident = await createIncident();
    const path = `/v1/incidents/${incident.id}`;
    const published = await send('reviewer', 'POST', `${path}/publish`);
    expect(published.status, published.text).toBe(200);
    expect(published.body).toMatchObject({ visibility: 'published', version: 2, publishedAt: expect.any(String) });
    expect((await request(t.app, 'GET', path)).status).toBe(200);

    const mark = await lastAuditId();
    const twice = await send('reviewer', 'POST', `${path}/publish`);
    expect(twice.body).toEqual(published.body);
    expect(await auditRowsAfter(mark)).toEqual([]);

    const unpublished = await send('reviewer', 'POST', `${path}/unpublish`, { body: { version: 2 } });
    expect(unpublished.body).toMatchObject({ visibility: 'draft', version: 3, publishedAt: null });
    expect((await request(t.app, 'GET', path)).status).toBe(404);
  });
});

describe('audit log', () => {
  interface Write {
    action: string;
    role: Role;
    setup?: (id: string) => Promise<unknown>;
    perform: (id: string) => Promise<ApiResponse>;
    after?: (response: ApiResponse) => unknown;
  }
  const path = (id: string) => `/v1/incidents/${id}`;
  const writes: Write[] = [
    {
      action: 'incident.update',
      role: 'editor',
      perform: (id) => send('editor', 'PATCH', path(id), { body: { title: 'Updated', victims: [] }, headers: { 'if-match': '"1"' } }),
    },
    {
      action: 'incident.delete',
      role: 'editor',
      perform: (id) => send('editor', 'DELETE', path(id), { body: { reason: 'Entered twice' } }),
      after: () => ({ deletedAt: expect.any(String), deletedReason: 'Entered twice' }),
    },
    {
      action: 'incident.verification',
      role: 'reviewer',
      perform: (id) => send('reviewer', 'POST', `${path(id)}/verification`, { body: { status: 'disputed', note: 'Accounts differ' } }),
    },
    { action: 'incident.publish', role: 'reviewer', perform: (id) => send('reviewer', 'POST', `${path(id)}/publish`) },
    {
      action: 'incident.unpublish',
      role: 'reviewer',
      setup: (id) => send('reviewer', 'POST', `${path(id)}/publish`),
      perform: (id) => send('reviewer', 'POST', `${path(id)}/unpublish`),
    },
  ];

  async function expectOneAuditRow(
    mark: number,
    response: ApiResponse,
    expected: { action: string; role: Role; id: string; before: unknown; after: unknown },
  ) {
    const key = await findActiveKeyByToken(t.app.db, t.actors[expected.role]);
    const rows = await auditRowsAfter(mark);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action: expected.action,
      entity_type: 'incident',
      entity_id: expected.id,
      organisation_id: t.actors.ownOrganisation.id,
      actor_key_id: key!.id,
      actor_role: expected.role,
      request_id: response.headers.get('x-request-id'),
    });
    expect(rows[0]!.request_id).toEqual(expect.any(String));
    // Stored with internal notes and protected victims sealed (test/encryption-at-rest.test.ts); read as written.
    expect(readableAuditDocument(rows[0]!.before)).toEqual(expected.before);
    expect(readableAuditDocument(rows[0]!.after)).toEqual(expected.after);
  }

  it('writes one incident.create row with the created incident as after', async () => {
    const mark = await lastAuditId();
    const response = await send('editor', 'POST', '/v1/incidents', { body: incidentBody(), headers: { 'x-request-id': 'trace-create-1' } });
    expect(response.headers.get('x-request-id')).toBe('trace-create-1');
    await expectOneAuditRow(mark, response, {
      action: 'incident.create',
      role: 'editor',
      id: response.body.id,
      before: null,
      after: withoutDuplicates(response.body),
    });
  });

  it.each(writes)('writes one $action row with before and after snapshots', async ({ action, role, setup, perform, after }) => {
    const { id } = await createIncident();
    await setup?.(id);
    const before = await read(id);
    const mark = await lastAuditId();
    const response = await perform(id);
    expect(response.status, response.text).toBeLessThan(300);
    await expectOneAuditRow(mark, response, { action, role, id, before, after: after ? after(response) : response.body });
  });

  it.each<[string, number, Role, (id: string) => [string, string, { body?: unknown; headers?: Record<string, string> }]]>([
    ['PATCH without a version', 428, 'editor', (id) => ['PATCH', path(id), { body: { title: 'x' } }]],
    ['PATCH with a stale version', 409, 'editor', (id) => ['PATCH', path(id), { body: { title: 'x', version: 7 } }]],
    ['PATCH with an invalid body', 400, 'editor', (id) => ['PATCH', path(id), { body: { title: '' }, headers: { 'if-match': '"1"' } }]],
    ['DELETE with a stale version', 409, 'editor', (id) => ['DELETE', path(id), { body: { reason: 'x', version: 9 } }]],
    [
      'verification to the current status',
      409,
      'reviewer',
      (id) => ['POST', `${path(id)}/verification`, { body: { status: 'unverified', note: 'x' } }],
    ],
    ['verification by an editor', 403, 'editor', (id) => ['POST', `${path(id)}/verification`, { body: { status: 'verified', note: 'x' } }]],
    ['publish with a stale version', 409, 'reviewer', (id) => ['POST', `${path(id)}/publish`, { headers: { 'if-match': '"4"' } }]],
  ])('adds no row for a failed write: %s', async (_name, status, role, describeRequest) => {
    const incident = await createIncident();
    const mark = await lastAuditId();
    const [method, url, options] = describeRequest(incident.id);
    const response = await send(role, method, url, options);
    expect(response.status, response.text).toBe(status);
    expect(await auditRowsAfter(mark)).toEqual([]);
    expect(await read(incident.id)).toEqual(incident);
  });

  it.each([
    ['UPDATE', () => t.app.db.updateTable('audit_log').set({ action: 'tampered' }).execute()],
    ['DELETE', () => t.app.db.deleteFrom('audit_log').execute()],
    ['TRUNCATE', () => sql`truncate audit_log`.execute(t.app.db)],
  ])('refuses a direct %s of audit rows in the database', async (_name, tamper) => {
    await createIncident();
    const rows = await t.app.db.selectFrom('audit_log').selectAll().orderBy('id').execute();
    await expect(tamper()).rejects.toThrow(/append-only/);
    expect(await t.app.db.selectFrom('audit_log').selectAll().orderBy('id').execute()).toEqual(rows);
  });
});

describe.skipIf(!process.env.DATABASE_URL)('row locks (PostgreSQL; the embedded database runs one transaction at a time)', () => {
  it('an edit in progress does not stop another transaction from referencing the incident', async () => {
    const edited = await createIncident();
    const other = await createIncident({
      location: { country: 'MX' },
      date: { precision: 'year', value: '2001' },
      victims: [{ name: 'Nobody Alike' }],
    });
    await t.app.db.transaction().execute(async (editing) => {
      expect(await lockOwnIncident(editing, edited.id, t.actors.ownOrganisation.id)).toBeDefined();
      // A new incident flagged as a duplicate of the one being edited. Under FOR UPDATE its
      // foreign-key check waited for the edit, and the edit waited for the data-version row
      // the new incident's transaction held: a deadlock (npm run reliability -- kill-mid-write).
      await t.app.db.transaction().execute(async (flagging) => {
        await sql`set local lock_timeout = '10s'`.execute(flagging);
        await sql`insert into duplicate_flags (incident_id, candidate_id, score, reasons)
          values (${other.id}, ${edited.id}, 0.9, '[]'::jsonb)`.execute(flagging);
      });
    });
  });
});
