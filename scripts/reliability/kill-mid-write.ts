import { freePort, startApi } from './support/api-process.ts';
import { createTenant, openScenarioDatabase } from './support/database.ts';
import { acknowledged, call } from './support/http.ts';
import { AcknowledgedWrites, incidentBody, writer } from './support/incidents.ts';
import { appliedOf, checkAcknowledged, checkIntegrity } from './support/integrity.ts';
import { Recorder, runClients, sleep } from './support/load.ts';
import type { Scenario } from './support/scenario.ts';

const CLIENTS = 16;

/**
 * Many clients create and edit incidents; the API process is SIGKILLed in the middle and started
 * again. Every write it acknowledged must be there, and no write may be half there.
 */
export const killMidWrite: Scenario = {
  id: 'kill-mid-write',
  summary: `${CLIENTS} clients create and PATCH incidents, SIGKILL, restart: every 2xx write kept, no orphans, audit complete`,
  defaultSeconds: 6,
  quick: true,
  embedded: true,
  run: async ({ seconds, embedded, report, log }) => {
    const database = await openScenarioDatabase('kill-mid-write', { embedded });
    try {
      const tenant = await database.use((db) => createTenant(db, 'editor', CLIENTS));
      const env = { ...database.env, PORT: String(await freePort()), RATE_LIMIT_AUTHENTICATED: '1000000' };
      const api = await startApi(env);

      log(`${CLIENTS} writers for ${seconds} s, then SIGKILL`);
      const recorder = new Recorder();
      const writes = new AcknowledgedWrites();
      const clients = tenant.keys.map((key) => writer(() => api.url, key, 'kill-mid-write', recorder, writes));
      let killed = false;
      const killer = sleep(seconds * 1000).then(() => {
        api.signal('SIGKILL');
        killed = true;
      });
      await runClients(
        CLIENTS,
        () => killed,
        (client) => clients[client]!(),
      );
      await killer;
      await api.exited;

      report.figure('answers', recorder.describeOutcomes());
      report.figure('creates without an answer (in flight at the kill)', writes.unansweredCreates.length);

      const restartedAt = performance.now();
      const again = await startApi(env);
      report.figure('restart until ready', `${((performance.now() - restartedAt) / 1000).toFixed(1)} s`);
      const after = await call(again.url, 'POST', '/v1/incidents', {
        key: tenant.keys[0],
        body: incidentBody(0, 'kill-mid-write after restart'),
      });
      report.check('writes succeed after the restart', acknowledged(after), String(after.status));
      await again.stop();

      await database.use(async (db) => {
        await checkAcknowledged(db, writes, report);
        report.figure('unanswered creates that were applied anyway', await appliedOf(db, writes.unansweredCreates));
        await checkIntegrity(db, report);
      });
      report.check(
        'every answer was 2xx (network errors only at the kill)',
        recorder.unexpected((outcome) => !/^\d/.test(outcome)) === 0,
        recorder.describeOutcomes(),
      );
    } finally {
      await database.drop();
    }
  },
};
