import { sql } from 'kysely';
import { startApi } from './support/api-process.ts';
import { createTenant, openScenarioDatabase } from './support/database.ts';
import { acknowledged, call } from './support/http.ts';
import { incidentBody } from './support/incidents.ts';
import { deadline, Recorder, runClients } from './support/load.ts';
import type { Scenario } from './support/scenario.ts';

const CLIENTS = 16;

/**
 * Many clients edit one incident at once, each reading the version and sending it back as
 * If-Match. Every PATCH must be applied or refused with 409 (no lost update), the final version
 * is 1 + the applied ones, and the audit trail holds exactly those changes, in version order.
 */
export const concurrentEdits: Scenario = {
  id: 'concurrent-edits',
  summary: `${CLIENTS} clients PATCH one incident with If-Match: each change applied or 409, audit trail = final state`,
  defaultSeconds: 5,
  quick: true,
  embedded: true,
  run: async ({ seconds, embedded, report, log }) => {
    const database = await openScenarioDatabase('concurrent-edits', { embedded });
    try {
      const tenant = await database.use((db) => createTenant(db, 'editor', CLIENTS));
      const api = await startApi({ ...database.env, RATE_LIMIT_AUTHENTICATED: '1000000' });
      const created = await call(api.url, 'POST', '/v1/incidents', { key: tenant.keys[0], body: incidentBody(0, 'concurrent-edits') });
      if (created.status !== 201) throw new Error(`could not create the incident: ${created.status}`);
      const id: string = created.body.id;

      log(`${CLIENTS} clients editing incident ${id} for ${seconds} s`);
      const recorder = new Recorder();
      const applied = new Map<number, string>(); // version -> the description its PATCH sent
      let conflicts = 0;
      await runClients(CLIENTS, deadline(seconds), async (client) => {
        const read = recorder.record('read', await call(api.url, 'GET', `/v1/incidents/${id}`, { key: tenant.keys[client] }));
        const description = `client ${client}, ${recorder.total}`;
        const patch = recorder.record(
          'patch',
          await call(api.url, 'PATCH', `/v1/incidents/${id}`, {
            key: tenant.keys[client],
            headers: { 'if-match': read.headers.get('etag') ?? '' },
            body: { description },
          }),
        );
        if (acknowledged(patch)) {
          if (applied.has(patch.body.version)) report.check(`version ${patch.body.version} given to one PATCH only`, false);
          applied.set(patch.body.version, description);
        } else if (patch.status === 409) conflicts++;
      });
      await api.stop();

      report.figure('PATCH applied (200)', applied.size);
      report.figure('PATCH refused (409)', conflicts);
      report.figure('requests', `${recorder.total} (${recorder.describeOutcomes()})`);
      report.figure('p99 latency', `${recorder.percentile(99).toFixed(0)} ms`);
      report.check(
        'only 200 and 409 answers',
        recorder.unexpected((outcome) => outcome === '409 conflict') === 0,
        recorder.describeOutcomes(),
      );

      await database.use(async (db) => {
        const incident = await db.selectFrom('incidents').select(['version', 'description']).where('id', '=', id).executeTakeFirstOrThrow();
        report.check(
          'final version = 1 + applied PATCHes',
          incident.version === 1 + applied.size,
          `version ${incident.version}, ${applied.size} applied`,
        );
        const audit = await sql<{ before: number; after: number; description: string }>`
          select (before->>'version')::int as before, (after->>'version')::int as after, after->>'description' as description
          from audit_log where entity_type = 'incident' and entity_id = ${id} and action = 'incident.update' order by id`.execute(db);
        const inOrder = audit.rows.every((row, i) => row.after === i + 2 && row.before === i + 1);
        report.check(
          'one audit record per applied PATCH, versions 2, 3, ... in order',
          audit.rows.length === applied.size && inOrder,
          `${audit.rows.length} records`,
        );
        const sameChange = audit.rows.every((row) => applied.get(row.after) === row.description);
        report.check('each audit record holds the change its PATCH sent', sameChange);
        report.check('final state = last audit record', audit.rows.at(-1)?.description === incident.description);
      });
    } finally {
      await database.drop();
    }
  },
};
