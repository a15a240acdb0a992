import { startApi } from './support/api-process.ts';
import { createTenant, openScenarioDatabase } from './support/database.ts';
import { acknowledged, call, isProblem, type Reply } from './support/http.ts';
import { AcknowledgedWrites, writer } from './support/incidents.ts';
import { checkAcknowledged, checkIntegrity } from './support/integrity.ts';
import { createThrowawayCluster } from './support/postgres-cluster.ts';
import { percentile, Recorder, runClients, sleep } from './support/load.ts';
import type { Scenario } from './support/scenario.ts';

const WRITERS = 8;
const READERS = 4;
const OUTAGE_SECONDS = 4;

/** Keeps when each answer arrived, to tell outage answers from the rest. */
class TimedRecorder extends Recorder {
  readonly answers: Array<{ at: number; reply: Reply }> = [];
  override record(kind: string, reply: Reply): Reply {
    this.answers.push({ at: performance.now(), reply });
    return super.record(kind, reply);
  }
}

/**
 * PostgreSQL (a throwaway cluster) is stopped twice under load, once with a fast shutdown and
 * once with an immediate one (a crash), and started again after a few seconds. Meanwhile the
 * API must answer 503 problem+json with Retry-After, quickly; afterwards it must serve again by
 * itself, as the same process; and every write it acknowledged must be in the database.
 */
export const postgresRestart: Scenario = {
  id: 'postgres-restart',
  summary: `${WRITERS} writers + ${READERS} readers; PostgreSQL stopped (fast, then immediate) and restarted: 503s, recovery, no lost 2xx write`,
  defaultSeconds: 30,
  quick: false,
  embedded: false,
  run: async ({ seconds, report, log }) => {
    const cluster = await createThrowawayCluster();
    try {
      const database = await openScenarioDatabase('postgres-restart', { serverUrl: cluster.serverUrl });
      const editors = await database.use((db) => createTenant(db, 'editor', WRITERS));
      const researcher = await database.use((db) => createTenant(db, 'researcher', 1));
      const api = await startApi({ ...database.env, RATE_LIMIT_AUTHENTICATED: '1000000' });
      let apiExited = false;
      let finished = false;
      void api.exited.then(({ code, signal }) => {
        apiExited = true;
        if (!finished) log(`the API exited (code ${code}, signal ${signal}); its last output:\n${api.recentOutput()}`);
      });

      const recorder = new TimedRecorder();
      const writes = new AcknowledgedWrites();
      const writers = editors.keys.map((key) => writer(() => api.url, key, 'postgres-restart', recorder, writes));
      const read = async () => recorder.record('read', await call(api.url, 'GET', '/v1/incidents?limit=20', { key: researcher.keys[0] }));
      const outages: Array<{ mode: string; from: number; to: number }> = [];

      log(
        `${WRITERS + READERS} clients for ${seconds} s; PostgreSQL down for ${OUTAGE_SECONDS} s at ${Math.round(seconds * 0.25)} s and ${Math.round(seconds * 0.6)} s`,
      );
      const started = performance.now();
      const restarts = (async () => {
        for (const [mode, at] of [
          ['fast', 0.25],
          ['immediate', 0.6],
        ] as const) {
          await sleep(Math.max(0, started + seconds * 1000 * at - performance.now()));
          const from = performance.now();
          await cluster.stop(mode);
          await sleep(OUTAGE_SECONDS * 1000);
          await cluster.start();
          outages.push({ mode, from, to: performance.now() });
        }
        await sleep(Math.max(0, started + seconds * 1000 - performance.now()));
        finished = true;
      })();
      await runClients(
        WRITERS + READERS,
        () => finished,
        async (client) => {
          const reply = client < WRITERS ? await writers[client]!() : await read();
          if (reply.status === 503) await sleep(100); // a client honouring Retry-After would wait longer
        },
      );
      await restarts;
      const ready = await call(api.url, 'GET', '/readyz');
      const sameProcess = !apiExited;
      await api.stop();

      report.figure('requests', `${recorder.total} (${recorder.describeOutcomes()})`);
      const unavailable = recorder.answers.filter(({ reply }) => reply.status === 503);
      const latencies = unavailable.map(({ reply }) => reply.ms);
      report.figure(
        '503 answers',
        `${unavailable.length}; p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${Math.max(0, ...latencies).toFixed(0)} ms`,
      );
      for (const outage of outages) {
        const firstSuccess = recorder.answers.find(({ at, reply }) => at > outage.to && acknowledged(reply));
        const recovery = firstSuccess ? `${((firstSuccess.at - outage.to) / 1000).toFixed(2)} s` : 'never';
        const during = recorder.answers.filter(({ at }) => at > outage.from && at <= outage.to);
        report.figure(
          `${outage.mode} stop, ${OUTAGE_SECONDS} s down`,
          `${during.length} answers while down; first 2xx ${recovery} after PostgreSQL was back`,
        );
        report.check(
          `served again within 10 s of the ${outage.mode} restart`,
          firstSuccess !== undefined && firstSuccess.at - outage.to < 10_000,
          recovery,
        );
      }
      report.check('the outages were seen (503 answers)', unavailable.length > 0);
      report.check(
        'every 503 is problem+json database-unavailable with Retry-After',
        unavailable.every(({ reply }) => isProblem(reply, 'database-unavailable') && reply.headers.get('retry-after') !== null),
      );
      report.check('503s fail fast (max < 6 s, the connection timeout is 5 s)', Math.max(0, ...latencies) < 6_000);
      report.check(
        'no answers other than 2xx and 503',
        recorder.unexpected((outcome) => outcome === '503 database-unavailable') === 0,
        recorder.describeOutcomes(),
      );
      report.check(
        'the API recovered without a restart (same process, ready)',
        sameProcess && ready.status === 200,
        `readyz ${ready.status}`,
      );

      await database.use(async (db) => {
        await checkAcknowledged(db, writes, report);
        await checkIntegrity(db, report);
      });
      await database.drop();
    } finally {
      await cluster.remove();
    }
  },
};
