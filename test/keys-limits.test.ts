import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { generateApiKey } from '../src/auth/api-key.ts';
import { insertApiKey, revokeApiKey } from '../src/auth/api-key.queries.ts';
import { rotateApiKey } from '../src/auth/api-key.service.ts';
import { onKeyRotated, type KeyRotated } from '../src/auth/key-hooks.ts';
import { systemActor } from '../src/audit/actor.ts';
import { ROUTE_SCOPES, SCOPES } from '../src/auth/scopes.ts';
import { loadConfig } from '../src/config.ts';
import { createDb } from '../src/db/create-db.ts';
import { createHttpServer } from '../src/http/http-server.ts';
import { createLogger } from '../src/logger.ts';
import { appRoutes } from './support/route-table.ts';
import { request, useTestApp, type TestApp } from './support/test-app.ts';

/**
 * Keys with limits (issue 17, part 5): expiry, scopes, last-used time, rotation with a grace
 * period, and failed authentications limited per address and logged without the key.
 */
const t = useTestApp();

const HOUR = 3600_000;
const inAnHour = () => new Date(Date.now() + HOUR).toISOString();

async function createKeyOverApi(body: Record<string, unknown>) {
  const response = await request(t.app, 'POST', '/v1/keys', {
    key: t.actors.admin,
    body: { organisationId: t.actors.otherOrganisation.id, name: 'Limited key', role: 'researcher', ...body },
  });
  expect(response.status, response.text).toBe(201);
  return response.body as { id: string; key: string; prefix: string; scopes: string[] | null; expiresAt: string | null };
}

const row = (id: string) => t.app.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('the scope table', () => {
  const served = () => appRoutes(createApp({ db: t.app.db, config: loadConfig({ LOG_LEVEL: 'silent' }), logger: createLogger('silent') }));

  it('names a scope (or none) for every route the app serves', () => {
    const missing = served().filter((route) => !(route in ROUTE_SCOPES));
    expect(missing, 'add these routes to ROUTE_SCOPES in src/auth/scopes.ts').toEqual([]);
  });

  it('has no row for a route the app does not serve', () => {
    const routes = served();
    expect(Object.keys(ROUTE_SCOPES).filter((route) => !routes.includes(route))).toEqual([]);
  });

  it('uses only scopes of the vocabulary', () => {
    for (const scope of Object.values(ROUTE_SCOPES)) if (scope !== null) expect(SCOPES).toContain(scope);
  });
});

describe('expiry', () => {
  it('a key works until its expiresAt, then gets 401 saying when it expired', async () => {
    const created = await createKeyOverApi({ expiresAt: inAnHour() });
    expect(created.expiresAt).not.toBeNull();
    expect((await request(t.app, 'GET', '/v1/incidents', { key: created.key })).status).toBe(200);

    const expiredAt = new Date(Date.now() - 1000);
    await t.app.db.updateTable('api_keys').set({ expires_at: expiredAt }).where('id', '=', created.id).execute();
    const response = await request(t.app, 'GET', '/v1/incidents', { key: created.key });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body.detail).toBe(`This API key expired at ${expiredAt.toISOString()}. Ask an administrator for a new key.`);
    expect(response.body.expiredAt).toBe(expiredAt.toISOString());
  });

  it('unknown and revoked keys get a different message, without a date', async () => {
    const revoked = await insertApiKey(t.app.db, { organisationId: t.actors.ownOrganisation.id, name: 'revoked', role: 'editor' });
    await revokeApiKey(t.app.db, revoked.id);
    for (const key of [generateApiKey().key, revoked.key]) {
      const response = await request(t.app, 'GET', '/v1/incidents', { key });
      expect(response.status).toBe(401);
      expect(response.body.detail).toBe('This API key is unknown or has been revoked.');
      expect(response.body.expiredAt).toBeUndefined();
    }
  });

  it('refuses an expiry in the past or without a time zone, and creates nothing', async () => {
    const before = (await t.app.db.selectFrom('api_keys').select('id').execute()).length;
    for (const [expiresAt, detail] of [
      ['2020-01-01T00:00:00Z', 'must be in the future'],
      ['2030-01-01T00:00:00', 'use an ISO 8601 date-time with a time zone, e.g. 2027-06-30T00:00:00Z'],
    ]) {
      const response = await request(t.app, 'POST', '/v1/keys', {
        key: t.actors.admin,
        body: { organisationId: t.actors.otherOrganisation.id, name: 'x', role: 'researcher', expiresAt },
      });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ pointer: '/expiresAt', detail }]);
    }
    expect((await t.app.db.selectFrom('api_keys').select('id').execute()).length).toBe(before);
  });
});

describe('scopes', () => {
  it('a researcher key limited to stats and export reads those, and gets 403 naming the scope elsewhere', async () => {
    const { key, scopes } = await createKeyOverApi({ scopes: ['stats', 'export', 'stats'] });
    expect(scopes).toEqual(['export', 'stats']);
    expect((await request(t.app, 'GET', '/v1/stats', { key })).status).toBe(200);
    expect((await request(t.app, 'GET', '/v1/incidents/export', { key })).status).toBe(200);
    for (const path of ['/v1/incidents', '/V1/Incidents/', '/v1/incidents/feed.atom']) {
      const refused = await request(t.app, 'GET', path, { key });
      expect(refused.status, path).toBe(403);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.body).toMatchObject({ type: '/problems/insufficient-scope', requiredScope: 'incidents:read', keyScopes: scopes });
      expect(refused.body.detail).toContain('needs the scope incidents:read');
    }
    const head = await fetch(`${t.app.url}/v1/incidents`, { method: 'HEAD', headers: { authorization: `Bearer ${key}` } });
    expect(head.status).toBe(403);
    // Documents anyone may read need no scope.
    expect((await request(t.app, 'GET', '/openapi.json', { key })).status).toBe(200);
    expect((await request(t.app, 'GET', '/healthz', { key })).status).toBe(200);
  });

  it('a write outside the scopes changes nothing', async () => {
    const editor = await createKeyOverApi({ organisationId: t.actors.ownOrganisation.id, role: 'editor', scopes: ['incidents:read'] });
    const count = async () => (await t.app.db.selectFrom('incidents').select('id').execute()).length;
    const before = await count();
    const response = await request(t.app, 'POST', '/v1/incidents', { key: editor.key, body: { title: 'Refused' } });
    expect(response.status).toBe(403);
    expect(response.body.requiredScope).toBe('incidents:write');
    expect(await count()).toBe(before);
    expect((await request(t.app, 'GET', '/v1/incidents', { key: editor.key })).status).toBe(200);
  });

  it('a scope never widens a role', async () => {
    const { key } = await createKeyOverApi({ scopes: ['incidents:write', 'admin'] });
    expect((await request(t.app, 'POST', '/v1/incidents', { key, body: {} })).body).toMatchObject({
      status: 403,
      type: '/problems/forbidden',
    });
    expect((await request(t.app, 'GET', '/v1/keys', { key })).body).toMatchObject({ status: 403, type: '/problems/forbidden' });
  });

  it('a path no scope covers is refused to a scoped key rather than guessed', async () => {
    const { key } = await createKeyOverApi({ scopes: ['stats'] });
    const response = await request(t.app, 'GET', '/v1/nothing-here', { key });
    expect(response.status).toBe(403);
    expect(response.body.requiredScope).toBeNull();
  });

  it('refuses an unknown scope, and an empty list', async () => {
    for (const [scopes, detail] of [
      [['stats', 'everything'], `use one of ${SCOPES.join(', ')}`],
      [[], "give at least one scope, or leave scopes out for the role's full rights"],
    ] as const) {
      const response = await request(t.app, 'POST', '/v1/keys', {
        key: t.actors.admin,
        body: { organisationId: t.actors.otherOrganisation.id, name: 'x', role: 'researcher', scopes },
      });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ pointer: scopes.length ? '/scopes/1' : '/scopes', detail }]);
    }
  });
});

describe('last used', () => {
  it('is shown in the listing, written at most once a minute per key', async () => {
    const created = await createKeyOverApi({});
    const listed = async () =>
      ((await request(t.app, 'GET', '/v1/keys', { key: t.actors.admin })).body.data as { id: string; lastUsedAt: string | null }[]).find(
        (key) => key.id === created.id,
      )!;
    expect((await listed()).lastUsedAt).toBeNull();

    const before = Date.now();
    await request(t.app, 'GET', '/v1/stats', { key: created.key });
    const used = Date.parse((await listed()).lastUsedAt!);
    expect(used).toBeGreaterThanOrEqual(before - 1000);
    expect(used).toBeLessThanOrEqual(Date.now());

    // Within the minute, no more writes: a value cleared behind the server's back stays cleared.
    await t.app.db.updateTable('api_keys').set({ last_used_at: null }).where('id', '=', created.id).execute();
    await request(t.app, 'GET', '/v1/stats', { key: created.key });
    expect((await row(created.id)).last_used_at).toBeNull();
  });
});

describe('rotation', () => {
  it('issues a new key with the same role, organisation, scopes and name; the old one works through the grace', async () => {
    const old = await createKeyOverApi({ name: 'Research desk', scopes: ['stats'] });
    const response = await request(t.app, 'POST', `/v1/keys/${old.id}/rotate`, { key: t.actors.admin, body: {} });
    expect(response.status, response.text).toBe(201);
    const { key: created, replaced, graceEndsAt } = response.body;
    expect(created).toMatchObject({
      organisationId: t.actors.otherOrganisation.id,
      role: 'researcher',
      name: 'Research desk',
      scopes: ['stats'],
      expiresAt: null,
      key: expect.stringMatching(/^dl_/),
    });
    expect(created.id).not.toBe(old.id);
    expect(replaced).toMatchObject({ id: old.id, replacedBy: created.id, expiresAt: graceEndsAt });
    expect(Math.abs(Date.parse(graceEndsAt) - Date.now() - 24 * HOUR)).toBeLessThan(60_000);
    for (const key of [old.key, created.key]) expect((await request(t.app, 'GET', '/v1/stats', { key })).status).toBe(200);

    const audit = await t.app.db
      .selectFrom('audit_log')
      .select(['action', 'entity_id', 'actor_role'])
      .where('entity_id', 'in', [old.id, created.id])
      .where('action', '!=', 'api_key.create')
      .execute();
    expect(audit).toEqual([{ action: 'api_key.rotate', entity_id: old.id, actor_role: 'admin' }]);
    const createdAudit = await t.app.db
      .selectFrom('audit_log')
      .select('after')
      .where('entity_id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(createdAudit.after)).not.toContain(created.key);

    const again = await request(t.app, 'POST', `/v1/keys/${old.id}/rotate`, { key: t.actors.admin, body: {} });
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain(created.id);
  });

  it('after the grace, the old key stops with a message that says it was rotated', async () => {
    const old = await createKeyOverApi({});
    const response = await request(t.app, 'POST', `/v1/keys/${old.id}/rotate`, { key: t.actors.admin, body: { gracePeriodSeconds: 0 } });
    expect(response.status).toBe(201);
    const refused = await request(t.app, 'GET', '/v1/stats', { key: old.key });
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toBe(
      `This API key was replaced by a rotation; its grace period ended at ${response.body.graceEndsAt}. Use the new key, or ask an administrator for one.`,
    );
    expect((await request(t.app, 'GET', '/v1/stats', { key: response.body.key.key })).status).toBe(200);
  });

  it('keeps the lifetime of an expiring key, and never extends the old one past its own expiry', async () => {
    const old = await createKeyOverApi({ expiresAt: inAnHour() });
    const response = await request(t.app, 'POST', `/v1/keys/${old.id}/rotate`, { key: t.actors.admin });
    expect(response.status).toBe(201);
    expect(response.body.graceEndsAt).toBe(old.expiresAt);
    expect(Math.abs(Date.parse(response.body.key.expiresAt) - Date.now() - HOUR)).toBeLessThan(60_000);
  });

  it('refuses a grace over the maximum, a revoked key and an unknown id', async () => {
    const old = await createKeyOverApi({});
    const tooLong = await request(t.app, 'POST', `/v1/keys/${old.id}/rotate`, {
      key: t.actors.admin,
      body: { gracePeriodSeconds: 8 * 24 * 3600 },
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors).toEqual([{ pointer: '/gracePeriodSeconds', detail: 'must be at most 604800 (7 days)' }]);
    expect((await row(old.id)).replaced_by).toBeNull();

    await request(t.app, 'DELETE', `/v1/keys/${old.id}`, { key: t.actors.admin });
    expect((await request(t.app, 'POST', `/v1/keys/${old.id}/rotate`, { key: t.actors.admin })).status).toBe(409);
    expect((await request(t.app, 'POST', `/v1/keys/00000000-0000-4000-8000-000000000000/rotate`, { key: t.actors.admin })).status).toBe(
      404,
    );
  });
});

describe('rotation listeners', () => {
  it('hear each rotation in its transaction: one that fails undoes the rotation', async () => {
    const cli = { actor: systemActor('keys-cli'), requestId: null };
    const heard: KeyRotated[] = [];
    const stopHearing = onKeyRotated('test: hears', async (trx, _context, rotated) => {
      // Inside the transaction: the new key is there, and the old one already names it.
      expect(
        (await trx.selectFrom('api_keys').select('replaced_by').where('id', '=', rotated.oldKeyId).executeTakeFirst())?.replaced_by,
      ).toBe(rotated.newKeyId);
      heard.push(rotated);
    });
    try {
      const old = await createKeyOverApi({});
      const rotated = await rotateApiKey(t.app.db, cli, old.id, { gracePeriodSeconds: 60 });
      expect(heard).toEqual([
        {
          oldKeyId: old.id,
          newKeyId: rotated.key.id,
          organisationId: t.actors.otherOrganisation.id,
          graceEndsAt: new Date(rotated.graceEndsAt),
        },
      ]);

      const stopFailing = onKeyRotated('test: fails', async () => {
        throw new Error('the listener failed');
      });
      const other = await createKeyOverApi({});
      const keysBefore = (await t.app.db.selectFrom('api_keys').select('id').execute()).length;
      await expect(rotateApiKey(t.app.db, cli, other.id)).rejects.toThrow('the listener failed');
      stopFailing();
      expect((await row(other.id)).replaced_by).toBeNull();
      expect((await t.app.db.selectFrom('api_keys').select('id').execute()).length).toBe(keysBefore);
    } finally {
      stopHearing();
    }
  });
});

describe('secrets', () => {
  it('are shown at creation and rotation only, never in the listing', async () => {
    const created = await createKeyOverApi({});
    const rotated = (await request(t.app, 'POST', `/v1/keys/${created.id}/rotate`, { key: t.actors.admin })).body.key;
    const listing = await request(t.app, 'GET', '/v1/keys', { key: t.actors.admin });
    for (const secret of [created.key, rotated.key, t.actors.admin]) {
      expect(listing.text).not.toContain(secret);
      expect(listing.text).not.toContain(secret.slice(12)); // nor the random part alone
    }
    for (const key of listing.body.data) expect(Object.keys(key)).not.toContain('key');
    const stored = await row(created.id);
    expect(JSON.stringify(stored)).not.toContain(created.key.slice(12));
  });
});

describe('failed authentications', () => {
  const lines: string[] = [];
  let server: ReturnType<typeof createHttpServer>;
  let app: TestApp;
  const from = (address: string, key?: string) => ({ key, headers: { 'x-forwarded-for': address } });

  beforeAll(async () => {
    const config = loadConfig({ LOG_LEVEL: 'info', TRUST_PROXY: '1', RATE_LIMIT_FAILED_AUTH: '3', RATE_LIMIT_ANONYMOUS: '1000' });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    server = createHttpServer(createApp({ db: t.app.db, config, logger }), config).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    app = { ...t.app, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('are limited per address: 401 up to the limit, then 429 even for a good key, while other addresses go on', async () => {
    const revoked = await insertApiKey(t.app.db, { organisationId: t.actors.ownOrganisation.id, name: 'revoked', role: 'editor' });
    await revokeApiKey(t.app.db, revoked.id);
    const unknown = generateApiKey().key;
    const statuses = [];
    for (const key of [unknown, 'not-a-key', revoked.key])
      statuses.push((await request(app, 'GET', '/v1/stats', from('203.0.113.7', key))).status);
    expect(statuses).toEqual([401, 401, 401]);

    const limited = await request(app, 'GET', '/v1/stats', from('203.0.113.7', unknown));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(limited.body).toMatchObject({ type: '/problems/too-many-failed-authentications', status: 429 });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // A good key from that address is not even looked at: a guesser cannot tell a hit from a miss.
    expect((await request(app, 'GET', '/v1/stats', from('203.0.113.7', t.actors.editor))).status).toBe(429);
    // Without a key the address is an anonymous reader, as before.
    expect((await request(app, 'GET', '/v1/stats', from('203.0.113.7'))).status).toBe(200);
    // Another address is counted on its own.
    expect((await request(app, 'GET', '/v1/stats', from('198.51.100.9', t.actors.editor))).status).toBe(200);
    expect((await request(app, 'GET', '/v1/stats', from('198.51.100.9', unknown))).status).toBe(401);

    const failures = lines.map((line) => JSON.parse(line)).filter((entry) => /^authentication (failed|refused)/.test(entry.msg));
    expect(failures.map(({ reason, ip }) => [reason, ip])).toEqual([
      ['unknown', '203.0.113.7'],
      ['malformed', '203.0.113.7'],
      ['revoked', '203.0.113.7'],
      ['blocked', '203.0.113.7'],
      ['blocked', '203.0.113.7'],
      ['unknown', '198.51.100.9'],
    ]);
    expect(failures[0]).toMatchObject({ keyPrefix: unknown.split('_')[1] });
    expect(failures[2]).toMatchObject({ keyId: revoked.id, keyPrefix: revoked.prefix });
    // The log holds no key, nor the secret part of one.
    const log = lines.join('\n');
    for (const key of [unknown, revoked.key, t.actors.editor, 'not-a-key']) {
      expect(log).not.toContain(key);
      if (key.startsWith('dl_')) expect(log).not.toContain(key.slice(12));
    }
  });
});

describe('npm run keys', () => {
  it('creates a key with scopes and an expiry, lists it, and rotates it', { timeout: 300_000 }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'dateline-keys-cli-'));
    const root = path.resolve(import.meta.dirname, '..');
    const run = (args: string[]) =>
      promisify(execFile)(
        process.execPath,
        ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/auth/keys-cli.ts', ...args],
        { cwd: root, env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, LOG_LEVEL: 'silent' } },
      ).then(
        (result) => ({ code: 0, ...result }),
        (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
      );
    try {
      const expiresAt = new Date(Date.now() + 30 * 24 * HOUR).toISOString();
      const created = await run([
        'create',
        '--org',
        'CLI Org',
        '--role',
        'researcher',
        '--scopes',
        'stats,export',
        '--expires-at',
        expiresAt,
      ]);
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).toContain(`limited to export, stats, expiring at ${expiresAt}`);
      const id = /\(id ([0-9a-f-]{36})/.exec(created.stdout)![1]!;

      const bad = await run(['create', '--org', 'CLI Org', '--role', 'researcher', '--scopes', 'everything']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('scopes: use one of');

      const rotated = await run(['rotate', id, '--grace-seconds', '3600']);
      expect(rotated.code, rotated.stderr).toBe(0);
      expect(rotated.stdout).toMatch(/keeps working until .+, then stops/);
      expect(rotated.stdout).toMatch(/\ndl_[0-9a-f]{8}_/);

      const listed = await run(['list', '--org', 'CLI Org']);
      expect(listed.stdout).toContain('export,stats');
      expect(listed.stdout).not.toContain('dl_');

      const { db } = await createDb({ dataDir });
      try {
        const keys = await db.selectFrom('api_keys').select(['id', 'scopes', 'replaced_by']).orderBy('created_at').execute();
        expect(keys).toHaveLength(2);
        expect(keys[0]).toMatchObject({ id, scopes: ['export', 'stats'], replaced_by: keys[1]!.id });
        expect(keys[1]!.scopes).toEqual(['export', 'stats']);
      } finally {
        await db.destroy();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
