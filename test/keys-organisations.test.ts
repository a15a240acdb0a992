import { beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../src/audit/actor.ts';
import { createApiKey, revokeApiKey } from '../src/auth/api-key.service.ts';
import { ensureAdminKey, OPERATORS_ORGANISATION } from '../src/auth/bootstrap-admin.ts';
import { NotFoundError, ValidationError } from '../src/errors.ts';
import { createOrganisation, findOrCreateOrganisation } from '../src/organisations/organisation.service.ts';
import { SAMPLE_ORGANISATION, seedSampleData } from '../src/sample-data/seed.ts';
import { createActors, createKey, type Actors } from './support/factories.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * Keys and organisations are written in one place each (auth/api-key.service.ts,
 * organisations/organisation.service.ts): the write and one audit record, in one transaction,
 * whoever asks (an admin key over the API, or a tool run by the operator).
 */
const t = useTestApp({}, { actors: false });

const auditOf = (entityId: string) =>
  t.app.db
    .selectFrom('audit_log')
    .select(['action', 'entity_type', 'organisation_id', 'actor_key_id', 'actor_role', 'request_id', 'before', 'after'])
    .where('entity_id', '=', entityId)
    .orderBy('id')
    .execute();

describe('the first admin key', () => {
  // Runs first: this file's database has no admin key yet.
  it('is created once, with its organisation, both audited as system:bootstrap', async () => {
    const key = await ensureAdminKey(t.app.db);
    expect(key).toMatch(/^dl_/);
    expect(await ensureAdminKey(t.app.db)).toBeUndefined();
    const organisation = await t.app.db
      .selectFrom('organisations')
      .select('id')
      .where('name', '=', OPERATORS_ORGANISATION)
      .executeTakeFirstOrThrow();
    const [keyRow] = await t.app.db.selectFrom('api_keys').select('id').where('organisation_id', '=', organisation.id).execute();
    expect(await auditOf(organisation.id)).toEqual([
      expect.objectContaining({ action: 'organisation.create', actor_key_id: null, actor_role: 'system:bootstrap', request_id: null }),
    ]);
    expect(await auditOf(keyRow!.id)).toEqual([
      expect.objectContaining({ action: 'api_key.create', actor_key_id: null, actor_role: 'system:bootstrap' }),
    ]);
  });
});

describe('over the API', () => {
  let actors: Actors;
  beforeAll(async () => {
    actors = await createActors(t.app.db);
  });
  const adminKeyId = async () =>
    (
      await t.app.db
        .selectFrom('api_keys')
        .select('id')
        .where('organisation_id', '=', actors.ownOrganisation.id)
        .where('role', '=', 'admin')
        .executeTakeFirstOrThrow()
    ).id;

  it('creating an organisation writes it and one audit record naming the admin key and the request', async () => {
    const response = await request(t.app, 'POST', '/v1/organisations', {
      key: actors.admin,
      body: { name: 'Committee for Audited Writes' },
    });
    expect(response.status).toBe(201);
    expect(await auditOf(response.body.id)).toEqual([
      {
        action: 'organisation.create',
        entity_type: 'organisation',
        organisation_id: response.body.id,
        actor_key_id: await adminKeyId(),
        actor_role: 'admin',
        request_id: response.headers.get('x-request-id'),
        before: null,
        after: response.body,
      },
    ]);
    const again = await request(t.app, 'POST', '/v1/organisations', { key: actors.admin, body: { name: 'Committee for Audited Writes' } });
    expect(again.status).toBe(409);
    expect(await auditOf(response.body.id)).toHaveLength(1);
  });

  it('creating and revoking a key write one audit record each; revoking again writes none', async () => {
    const created = await request(t.app, 'POST', '/v1/keys', {
      key: actors.admin,
      body: { organisationId: actors.otherOrganisation.id, name: 'Audited', role: 'editor' },
    });
    expect(created.status).toBe(201);
    const { key: _secret, ...shown } = created.body;
    expect(await request(t.app, 'DELETE', `/v1/keys/${shown.id}`, { key: actors.admin })).toMatchObject({ status: 204 });
    expect(await request(t.app, 'DELETE', `/v1/keys/${shown.id}`, { key: actors.admin })).toMatchObject({ status: 204 });
    const audit = await auditOf(shown.id);
    expect(audit.map((row) => [row.action, row.actor_role, row.actor_key_id])).toEqual([
      ['api_key.create', 'admin', await adminKeyId()],
      ['api_key.revoke', 'admin', await adminKeyId()],
    ]);
    expect(audit[0]!.after).toEqual(shown); // never the secret
    expect(audit[1]).toMatchObject({ before: shown, after: { ...shown, revokedAt: expect.any(String) } });
  });

  it('a key for an organisation that does not exist writes nothing', async () => {
    const response = await request(t.app, 'POST', '/v1/keys', {
      key: actors.admin,
      body: { organisationId: '00000000-0000-4000-8000-000000000000', name: 'x', role: 'editor' },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ pointer: '/organisationId', detail: 'no such organisation' }]);
  });
});

describe('from a tool run by the operator', () => {
  const cli = { actor: systemActor('keys-cli'), requestId: null };

  it('audits each write as system:<tool>, without a key', async () => {
    const { organisation, created } = await findOrCreateOrganisation(t.app.db, cli, 'Made from the command line');
    expect(created).toBe(true);
    expect((await findOrCreateOrganisation(t.app.db, cli, 'Made from the command line')).created).toBe(false);
    const key = await createApiKey(t.app.db, cli, { organisationId: organisation.id, name: 'CLI key', role: 'reviewer' });
    expect(await revokeApiKey(t.app.db, cli, key.id)).toBe('revoked');
    expect(await revokeApiKey(t.app.db, cli, key.id)).toBe('already_revoked');
    expect((await auditOf(organisation.id)).map((row) => [row.action, row.actor_role, row.actor_key_id])).toEqual([
      ['organisation.create', 'system:keys-cli', null],
    ]);
    expect((await auditOf(key.id)).map((row) => [row.action, row.actor_role])).toEqual([
      ['api_key.create', 'system:keys-cli'],
      ['api_key.revoke', 'system:keys-cli'],
    ]);
  });

  it('leaves nothing behind when a write fails', async () => {
    await expect(revokeApiKey(t.app.db, cli, '00000000-0000-4000-8000-000000000000')).rejects.toThrow(NotFoundError);
    await expect(
      createApiKey(t.app.db, cli, { organisationId: '00000000-0000-4000-8000-000000000000', name: 'x', role: 'editor' }),
    ).rejects.toThrow(ValidationError);
    // The organisation made in the same transaction as a failed key is rolled back with it.
    await expect(
      t.app.db.transaction().execute(async (trx) => {
        await createOrganisation(trx, cli, 'Rolled back');
        await createApiKey(trx, cli, { organisationId: '00000000-0000-4000-8000-000000000000', name: 'x', role: 'editor' });
      }),
    ).rejects.toThrow(ValidationError);
    expect(await t.app.db.selectFrom('organisations').select('id').where('name', '=', 'Rolled back').execute()).toEqual([]);
  });

  it('the sample data is written by system:seed and makes no API key', async () => {
    const keysBefore = await t.app.db.selectFrom('api_keys').select('id').execute();
    expect(await seedSampleData(t.app.db)).toBe(true);
    expect(await seedSampleData(t.app.db)).toBe(false);
    const organisation = await t.app.db
      .selectFrom('organisations')
      .select('id')
      .where('name', '=', SAMPLE_ORGANISATION)
      .executeTakeFirstOrThrow();
    expect(await t.app.db.selectFrom('api_keys').select('id').execute()).toEqual(keysBefore);
    const audit = await t.app.db
      .selectFrom('audit_log')
      .select(['action', 'actor_role', 'actor_key_id'])
      .where('organisation_id', '=', organisation.id)
      .execute();
    expect(audit.map((row) => row.action)).toEqual(
      expect.arrayContaining(['organisation.create', 'incident.create', 'incident.verification', 'incident.publish']),
    );
    expect(new Set(audit.map((row) => `${row.actor_role}|${row.actor_key_id}`))).toEqual(new Set(['system:seed|null']));
  });

  it('a key cannot be made without an admin over the API', async () => {
    const actors = await createActors(t.app.db);
    const editor = await createKey(t.app.db, actors.ownOrganisation.id, 'editor');
    const response = await request(t.app, 'POST', '/v1/keys', {
      key: editor,
      body: { organisationId: actors.ownOrganisation.id, name: 'x', role: 'admin' },
    });
    expect(response.status).toBe(403);
  });
});
