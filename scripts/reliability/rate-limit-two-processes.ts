import { createClient } from 'redis';
import { startApi } from './support/api-process.ts';
import { createTenant, openScenarioDatabase } from './support/database.ts';
import { call } from './support/http.ts';
import { deadline, Recorder, runClients } from './support/load.ts';
import type { Scenario } from './support/scenario.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The default prefix (src/http/rate-limit-store.ts); keys are per API key id, new in every run. */
const REDIS_PREFIX = 'dateline:ratelimit:';
const KEYS = 4;
const LIMIT = 400;
const CLIENTS = 16;

/**
 * Two API processes share their rate-limit counters through Redis. Clients spread each key's
 * requests over both, asking for well over the budget; the total each key got must be the
 * configured limit (within 3%), not twice it. The window is an hour, so it cannot roll over
 * during the run. Per-key budgets, because key ids are unique to the run: another run or test
 * on the same Redis cannot share these counters (anonymous ones would all be "ip:127.0.0.1").
 */
export const rateLimitTwoProcesses: Scenario = {
  id: 'rate-limit-two-processes',
  summary: `${KEYS} keys x ${LIMIT}/window over 2 API processes sharing Redis: each key gets its limit, not twice it`,
  defaultSeconds: 20,
  quick: false,
  embedded: false,
  run: async ({ seconds, report, log }) => {
    const database = await openScenarioDatabase('rate-limit-two-processes');
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    let keyIds: string[] = [];
    try {
      const tenant = await database.use((db) => createTenant(db, 'researcher', KEYS));
      keyIds = tenant.keyIds;
      const env = { ...database.env, REDIS_URL, RATE_LIMIT_AUTHENTICATED: String(LIMIT), RATE_LIMIT_WINDOW_SECONDS: '3600' };
      const apis = [await startApi(env), await startApi(env)];

      log(`${CLIENTS} clients, ${KEYS} keys, both processes, until every key has asked for 3x its limit or ${seconds} s`);
      const recorder = new Recorder();
      const allowed = tenant.keys.map(() => [0, 0]);
      const asked = tenant.keys.map(() => 0);
      const done = deadline(seconds);
      await runClients(
        CLIENTS,
        () => done() || asked.every((n) => n >= 3 * LIMIT),
        async (client) => {
          const key = client % KEYS;
          const processIndex = asked[key]! % 2;
          asked[key]!++;
          const reply = recorder.record(
            'list',
            await call(apis[processIndex]!.url, 'GET', '/v1/incidents?limit=1', { key: tenant.keys[key] }),
          );
          if (reply.status === 200) allowed[key]![processIndex]!++;
        },
      );
      await Promise.all(apis.map((api) => api.stop()));

      report.figure(
        'requests',
        `${recorder.total} (${recorder.describeOutcomes()}), p50 ${recorder.percentile(50).toFixed(0)} ms, p99 ${recorder.percentile(99).toFixed(0)} ms`,
      );
      report.figure('allowed per key (process 1 + process 2)', allowed.map(([a, b]) => `${a! + b!} (${a} + ${b})`).join(', '));
      report.check(
        'every key asked for more than its limit',
        asked.every((n) => n > LIMIT),
        asked.join(', '),
      );
      const within = allowed.every(([a, b]) => Math.abs(a! + b! - LIMIT) <= LIMIT * 0.03);
      report.check(`each key allowed ${LIMIT} +- 3% in total`, within);
      report.check(
        'both processes served every key',
        allowed.every(([a, b]) => a! > 0 && b! > 0),
      );
      report.check('only 200 and 429 answers', recorder.unexpected() === 0, recorder.describeOutcomes());
    } finally {
      if (keyIds.length) await redis.del(keyIds.map((id) => `${REDIS_PREFIX}key:${id}`));
      await redis.close();
      await database.drop();
    }
  },
};
