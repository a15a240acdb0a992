import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { insertApiKey } from '../src/auth/api-key.queries.ts';
import { incidentBody } from './support/factories.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * Need-to-know access groups: an organisation's admin restricts an incident, or one protected
 * victim, to groups of its keys. Keys outside them see the incident as the organisation's
 * researchers do, a restricted victim as "name withheld" (also in the full view), and may not
 * change either; nothing they can ask for (search, duplicates, exports, statistics) finds the
 * restricted name.
 */
const t = useTestApp();

const RESTRICTED_NAME = `Quillon Vareska ${randomUUID().slice(0, 6)}`;
const keys = {} as Record<'member' | 'memberReviewer' | 'outsider' | 'outsiderReviewer', { id: string; key: string }>;
let groupId: string;
let incident: { id: string; version: number; victims: Array<{ id: string; name: string; protected: boolean }> };
let restrictedIncident: { id: string };

const admin = (method: string, path: string, body?: unknown) => request(t.app, method, path, { key: t.actors.admin, body });

async function newKey(role: 'editor' | 'reviewer') {
  const { id, key } = await insertApiKey(t.app.db, {
    organisationId: t.actors.ownOrganisation.id,
    name: `${role} ${randomUUID().slice(0, 6)}`,
    role,
  });
  return { id, key };
}

beforeAll(async () => {
  keys.member = await newKey('editor');
  keys.outsider = await newKey('editor');
  keys.outsiderReviewer = await newKey('reviewer');
  keys.memberReviewer = await newKey('reviewer');
  const created = await admin('POST', '/v1/access-groups', { name: 'Source protection desk' });
  expect(created.status, created.text).toBe(201);
  groupId = created.body.id;
  for (const member of [keys.member, keys.memberReviewer]) {
    expect((await admin('PUT', `/v1/access-groups/${groupId}/members/${member.id}`)).status).toBe(200);
  }
  incident = (
    await request(t.app, 'POST', '/v1/incidents', {
      key: keys.member.key,
      body: incidentBody({
        victims: [
          { name: 'Open Reporter', role: 'journalist', outcome: 'injured' },
          { name: RESTRICTED_NAME, role: 'activist', outcome: 'threatened', gender: 'female', protected: true },
        ],
      }),
    })
  ).body;
  restrictedIncident = (await request(t.app, 'POST', '/v1/incidents', { key: keys.member.key, body: incidentBody() })).body;
});

describe('groups and members (admins of the organisation)', () => {
  it('lists the group with its members', async () => {
    const response = await admin('GET', '/v1/access-groups');
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual([
      expect.objectContaining({
        id: groupId,
        name: 'Source protection desk',
        memberKeyIds: [keys.member.id, keys.memberReviewer.id].sort(),
      }),
    ]);
  });

  it('renames; a name taken in the organisation is a 409', async () => {
    const other = (await admin('POST', '/v1/access-groups', { name: 'Legal' })).body;
    expect((await admin('PATCH', `/v1/access-groups/${other.id}`, { name: 'Source protection desk' })).status).toBe(409);
    const renamed = await admin('PATCH', `/v1/access-groups/${other.id}`, { name: 'Legal team' });
    expect(renamed.body.name).toBe('Legal team');
    expect((await admin('DELETE', `/v1/access-groups/${other.id}`)).status).toBe(204);
  });

  it("a key of another organisation cannot be added (404), nor can anyone but the organisation's admin manage groups", async () => {
    const foreign = await insertApiKey(t.app.db, { organisationId: t.actors.otherOrganisation.id, name: 'foreign', role: 'editor' });
    expect((await admin('PUT', `/v1/access-groups/${groupId}/members/${foreign.id}`)).status).toBe(404);
    expect((await request(t.app, 'GET', '/v1/access-groups', { key: t.actors.editor })).status).toBe(403);
    expect((await request(t.app, 'POST', '/v1/access-groups', { body: { name: 'x' } })).status).toBe(401);
  });

  it('bad input is a 400 naming the field, and changes nothing', async () => {
    const response = await admin('POST', '/v1/access-groups', { name: '  ' });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ pointer: '/name', detail: 'must not be empty' }]);
  });
});

describe('a restricted incident', () => {
  beforeAll(async () => {
    const response = await admin('PUT', `/v1/incidents/${restrictedIncident.id}/access-groups`, { groupIds: [groupId] });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual({ incidentId: restrictedIncident.id, groupIds: [groupId], victims: [] });
  });

  it('members see it in full; outsiders of the organisation as its researchers do', async () => {
    const member = await request(t.app, 'GET', `/v1/incidents/${restrictedIncident.id}`, { key: keys.member.key });
    const outsider = await request(t.app, 'GET', `/v1/incidents/${restrictedIncident.id}`, { key: keys.outsider.key });
    expect(member.body.internalNotes).toBeDefined();
    expect(outsider.status).toBe(200);
    expect(outsider.body.internalNotes).toBeUndefined();
    expect(outsider.body.organisation.id).toBeUndefined();
    expect(JSON.stringify(outsider.body)).not.toContain('Secret Witness Name');
    const listed = await request(t.app, 'GET', `/v1/incidents?organisation=${t.actors.ownOrganisation.id}&limit=200`, {
      key: keys.outsider.key,
    });
    expect(JSON.stringify(listed.body)).not.toContain('Secret Witness Name');
  });

  it('outsiders may not change it (403 saying why), nor read its audit trail', async () => {
    const patch = await request(t.app, 'PATCH', `/v1/incidents/${restrictedIncident.id}`, {
      key: keys.outsider.key,
      body: { title: 'x', version: 1 },
    });
    expect(patch.status).toBe(403);
    expect(patch.body.detail).toMatch(/access groups your key is not in/);
    const publish = await request(t.app, 'POST', `/v1/incidents/${restrictedIncident.id}/publish`, {
      key: keys.outsiderReviewer.key,
      body: {},
    });
    expect(publish.status).toBe(403);
    expect((await request(t.app, 'GET', `/v1/incidents/${restrictedIncident.id}/audit`, { key: keys.outsider.key })).status).toBe(403);
    expect((await request(t.app, 'GET', `/v1/incidents/${restrictedIncident.id}/audit`, { key: keys.member.key })).status).toBe(200);
  });

  it('is not merged away, even by a member: the survivor would not carry the restriction (409)', async () => {
    const survivor = (await request(t.app, 'POST', '/v1/incidents', { key: keys.member.key, body: incidentBody() })).body;
    const merge = await request(t.app, 'POST', `/v1/incidents/${restrictedIncident.id}/merge`, {
      key: keys.memberReviewer.key,
      body: { into: survivor.id },
    });
    expect(merge.status).toBe(409);
    expect(merge.body.detail).toMatch(/would not carry the restriction over/);
  });

  it('a group that restricts something cannot be deleted: that would open it to everyone', async () => {
    const response = await admin('DELETE', `/v1/access-groups/${groupId}`);
    expect(response.status).toBe(409);
    expect(response.body.detail).toMatch(/still restricts 1 incident/);
  });
});

describe('a restricted protected victim', () => {
  let victimId: string;
  beforeAll(async () => {
    victimId = incident.victims.find((victim) => victim.protected)!.id;
    const response = await admin('PUT', `/v1/incidents/${incident.id}/victims/${victimId}/access-groups`, { groupIds: [groupId] });
    expect(response.status, response.text).toBe(200);
    expect(response.body.victims).toEqual([{ victimId, groupIds: [groupId] }]);
  });

  it('an unprotected victim cannot be restricted (409)', async () => {
    const open = incident.victims.find((victim) => !victim.protected)!.id;
    expect((await admin('PUT', `/v1/incidents/${incident.id}/victims/${open}/access-groups`, { groupIds: [groupId] })).status).toBe(409);
  });

  it('outsiders get "name withheld" in the full view; members the name', async () => {
    const outsider = await request(t.app, 'GET', `/v1/incidents/${incident.id}`, { key: keys.outsider.key });
    expect(outsider.body.internalNotes).toBeDefined(); // the rest of the incident is theirs
    expect(outsider.body.victims[1]).toMatchObject({ id: victimId, name: 'name withheld', protected: true, gender: null });
    expect(outsider.text).not.toContain(RESTRICTED_NAME);
    const member = await request(t.app, 'GET', `/v1/incidents/${incident.id}`, { key: keys.member.key });
    expect(member.body.victims[1].name).toBe(RESTRICTED_NAME);
  });

  it('outsiders find the name through no search, export, statistics or duplicates; members still do where the owner could', async () => {
    for (const path of [
      `/v1/incidents?q=${encodeURIComponent(RESTRICTED_NAME)}`,
      '/v1/incidents/export?format=json',
      '/v1/incidents/export?format=csv',
      `/v1/incidents?format=csv&organisation=${t.actors.ownOrganisation.id}`,
      `/v1/incidents/${incident.id}/duplicates`,
      `/v1/incidents/${incident.id}/history`,
    ]) {
      const response = await request(t.app, 'GET', path, { key: keys.outsider.key });
      expect(response.status, path).toBe(200);
      expect(response.text, path).not.toContain(RESTRICTED_NAME);
    }
    const exported = await request(t.app, 'GET', '/v1/incidents/export?format=json', { key: keys.member.key });
    expect(exported.text).toContain(RESTRICTED_NAME);
    // Her gender counts as unknown for outsiders, as for another organisation.
    const stats = (key: string) =>
      request(
        t.app,
        'GET',
        `/v1/stats?groupBy=gender&organisation=${t.actors.ownOrganisation.id}&victimRole=activist&dateFrom=2024-03-15&dateTo=2024-03-15`,
        { key },
      );
    const female = (body: { groups: Array<{ gender: string | null; victims: number }> }) =>
      body.groups.find((row) => row.gender === 'female')?.victims ?? 0;
    expect(female((await stats(keys.member.key)).body)).toBeGreaterThan(female((await stats(keys.outsider.key)).body));
  });

  it('outsiders may not change the incident; a member may, and the restriction survives the edit', async () => {
    const denied = await request(t.app, 'PATCH', `/v1/incidents/${incident.id}`, {
      key: keys.outsider.key,
      body: { title: 'x', version: incident.version },
    });
    expect(denied.status).toBe(403);
    const full = (await request(t.app, 'GET', `/v1/incidents/${incident.id}`, { key: keys.member.key })).body;
    const victims = full.victims.map(({ id, name, role, outcome, gender, protected: isProtected }: Record<string, unknown>) => ({
      id,
      name,
      role,
      outcome,
      gender,
      protected: isProtected,
    }));
    const edited = await request(t.app, 'PATCH', `/v1/incidents/${incident.id}`, {
      key: keys.member.key,
      body: { title: 'Edited by a member', victims, version: full.version },
    });
    expect(edited.status, edited.text).toBe(200);
    const outsider = await request(t.app, 'GET', `/v1/incidents/${incident.id}`, { key: keys.outsider.key });
    expect(outsider.body.title).toBe('Edited by a member');
    expect(outsider.text).not.toContain(RESTRICTED_NAME);
  });

  it('another organisation sees it withheld as any protected victim; the admin can lift the restriction', async () => {
    const other = await request(t.app, 'GET', `/v1/incidents/${incident.id}`, { key: t.actors.otherEditor });
    expect(other.status).toBe(404); // a draft of another organisation
    expect((await admin('PUT', `/v1/incidents/${incident.id}/victims/${victimId}/access-groups`, { groupIds: [] })).status).toBe(200);
    const outsider = await request(t.app, 'GET', `/v1/incidents/${incident.id}`, { key: keys.outsider.key });
    expect(outsider.body.victims[1].name).toBe(RESTRICTED_NAME);
  });

  it('every change to groups and restrictions is audited', async () => {
    const rows = await t.app.db
      .selectFrom('audit_log')
      .select('action')
      .where('organisation_id', '=', t.actors.ownOrganisation.id)
      .where((eb) => eb.or([eb('action', 'like', 'access_group.%'), eb('action', 'like', 'incident.%access_groups')]))
      .orderBy('id')
      .execute();
    expect(rows.map((row) => row.action)).toEqual([
      'access_group.create',
      'access_group.add_member',
      'access_group.add_member',
      'access_group.create',
      'access_group.rename',
      'access_group.delete',
      'incident.access_groups',
      'incident.victim_access_groups',
      'incident.victim_access_groups',
    ]);
  });
});

describe('a rotated key', () => {
  it('takes its access groups and its webhook endpoints to its successor, with an audit record of each', async () => {
    const rotating = await newKey('editor');
    expect((await admin('PUT', `/v1/access-groups/${groupId}/members/${rotating.id}`)).status).toBe(200);
    const endpoint = await t.app.db
      .insertInto('webhook_endpoints')
      .values({
        organisation_id: t.actors.ownOrganisation.id,
        key_id: rotating.id,
        url: 'https://receiver.example/dateline',
        event_types: ['incident.published'],
        filter: '{}',
        description: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();

    const rotated = await admin('POST', `/v1/keys/${rotating.id}/rotate`, {});
    expect(rotated.status, rotated.text).toBe(201);
    const successor: string = rotated.body.key.id;

    const members = await t.app.db.selectFrom('access_group_members').select('key_id').where('group_id', '=', groupId).execute();
    expect(members.map((member) => member.key_id)).toEqual(expect.arrayContaining([rotating.id, successor]));
    const moved = await t.app.db.selectFrom('webhook_endpoints').select('key_id').where('id', '=', endpoint.id).executeTakeFirstOrThrow();
    expect(moved.key_id).toBe(successor);
    // The successor reads the restricted victim as a member does.
    const read = await request(t.app, 'GET', `/v1/incidents/${incident.id}`, { key: rotated.body.key.key });
    expect(read.text).toContain(RESTRICTED_NAME);

    const audit = await t.app.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', 'in', ['access_group.add_member', 'webhook.key_rotated'])
      .where('request_id', '=', rotated.headers.get('x-request-id'))
      .execute();
    expect(audit.map((row) => row.action).sort()).toEqual(['access_group.add_member', 'webhook.key_rotated']);
  });
});
