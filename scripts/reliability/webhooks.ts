import { createServer, type Server } from 'node:http';
import { sql } from 'kysely';
import { insertApiKey } from '../../src/auth/api-key.queries.ts';
import type { Db } from '../../src/db/create-db.ts';
import { freePort, startApi, type ApiProcess } from './support/api-process.ts';
import { createTenant, openScenarioDatabase, type ScenarioDatabase } from './support/database.ts';
import { acknowledged, call } from './support/http.ts';
import { incidentBody } from './support/incidents.ts';
import { percentile, Recorder, runClients, sleep } from './support/load.ts';
import type { Report } from './support/report.ts';
import type { Scenario, ScenarioContext } from './support/scenario.ts';

/**
 * Webhook delivery under faults (issue 16). Each scenario starts the real API with
 * WEBHOOKS_ALLOW_PRIVATE=true and a receiver on loopback, registers one endpoint for
 * incident.published and incident.updated, and has writers create, publish and correct incidents.
 * The outbox (webhook_events) is the truth: every event committed must reach the receiver at
 * least once (matched by webhook-id through webhook_deliveries); duplicates are counted; the
 * delay from commit to the first receipt is measured. Retries use a compressed schedule
 * (RETRY_SCHEDULE, seconds) so a run takes minutes, not a day.
 */
const RETRY_SCHEDULE = '1,2,4,8,15,30,30,30,30,30,30';
const WRITERS = 4;

interface Receipt {
  webhookId: string;
  at: number;
}

class Receiver {
  readonly receipts: Receipt[] = [];
  delayMs = 0;
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.port ||= await freePort();
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const webhookId = String(req.headers['webhook-id']);
        setTimeout(() => {
          this.receipts.push({ webhookId, at: Date.now() });
          res.writeHead(204).end();
        }, this.delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  /** Down: the port refuses connections. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url() {
    return `http://127.0.0.1:${this.port}/hook`;
  }
}

interface Setup {
  database: ScenarioDatabase;
  env: Record<string, string>;
  editor: string;
  reviewer: string;
  receiver: Receiver;
}

async function setUp(id: string, context: ScenarioContext, extraEnv: Record<string, string> = {}): Promise<Setup> {
  const database = await openScenarioDatabase(id, { embedded: context.embedded });
  const { editor, reviewer } = await database.use(async (db) => {
    const tenant = await createTenant(db, 'editor', 1);
    const review = await insertApiKey(db, { organisationId: tenant.organisationId, name: 'reviewer', role: 'reviewer' });
    return { editor: tenant.keys[0]!, reviewer: review.key };
  });
  const receiver = new Receiver();
  await receiver.start();
  const env = {
    ...database.env,
    RATE_LIMIT_AUTHENTICATED: '1000000',
    WEBHOOKS_ALLOW_PRIVATE: 'true',
    WEBHOOKS_RETRY_SCHEDULE: RETRY_SCHEDULE,
    ...extraEnv,
  };
  return { database, env, editor, reviewer, receiver };
}

async function registerEndpoint(api: ApiProcess, setup: Setup) {
  const reply = await call(api.url, 'POST', '/v1/webhooks', {
    key: setup.reviewer,
    body: { url: setup.receiver.url, eventTypes: ['incident.published', 'incident.updated'] },
  });
  if (!acknowledged(reply)) throw new Error(`could not register the endpoint: ${reply.status} ${JSON.stringify(reply.body)}`);
}

/** Writers: create, publish, correct; each published incident makes two events. */
async function write(urls: () => string[], setup: Setup, until: () => boolean, recorder: Recorder) {
  let n = 0;
  await runClients(WRITERS, until, async (client) => {
    const base = urls()[(n++ + client) % urls().length]!;
    const created = recorder.record(
      'create',
      await call(base, 'POST', '/v1/incidents', { key: setup.editor, body: incidentBody(n, 'webhooks') }),
    );
    if (!acknowledged(created)) return sleep(50);
    const published = recorder.record(
      'publish',
      await call(base, 'POST', `/v1/incidents/${created.body.id}/publish`, { key: setup.reviewer }),
    );
    if (!acknowledged(published)) return sleep(50);
    recorder.record(
      'correct',
      await call(base, 'PATCH', `/v1/incidents/${created.body.id}`, {
        key: setup.editor,
        body: { title: `Corrected ${created.body.id}`, version: published.body.version },
      }),
    );
  });
}

interface Outbox {
  events: number;
  deliveries: { webhookId: string; committedAt: number }[];
}

async function readOutbox(db: Db): Promise<Outbox> {
  const { rows } = await sql<{
    n: string;
  }>`select count(*) as n from webhook_events where type in ('incident.published', 'incident.updated')`.execute(db);
  const deliveries = await db.selectFrom('webhook_deliveries').select(['id', 'committed_at']).execute();
  return {
    events: Number(rows[0]!.n),
    deliveries: deliveries.map((row) => ({ webhookId: `msg_${row.id}`, committedAt: row.committed_at.getTime() })),
  };
}

/**
 * Waits (the API still running) until the receiver has every delivery the outbox holds and, on
 * PostgreSQL, no delivery is pending any more (a lease left by a killed process expires and its
 * delivery is sent again: a duplicate, counted), or the time is up.
 */
async function drain(setup: Setup, expected: () => Promise<number>, seconds: number, log: (message: string) => void) {
  const end = Date.now() + seconds * 1000;
  const settled = () =>
    setup.database.mode === 'embedded'
      ? Promise.resolve(true)
      : setup.database.use(async (db) => {
          const { rows } = await sql<{ n: string }>`select (select count(*) from webhook_deliveries where status = 'pending')
        + (select count(*) from webhook_events where fanned_out_at is null) as n`.execute(db);
          return Number(rows[0]!.n) === 0;
        });
  for (;;) {
    const want = await expected();
    const got = new Set(setup.receiver.receipts.map((receipt) => receipt.webhookId)).size;
    if ((got >= want && (await settled())) || Date.now() > end) return;
    log(`waiting for deliveries: ${got} of ${want}`);
    await sleep(2000);
  }
}

function reportDeliveries(report: Report, outbox: Outbox, setup: Setup, acknowledgedPublishes: number) {
  const first = new Map<string, number>();
  let duplicates = 0;
  for (const receipt of setup.receiver.receipts) {
    if (first.has(receipt.webhookId)) duplicates++;
    else first.set(receipt.webhookId, receipt.at);
  }
  const delays = outbox.deliveries.flatMap((delivery) =>
    first.has(delivery.webhookId) ? [first.get(delivery.webhookId)! - delivery.committedAt] : [],
  );
  const missing = outbox.deliveries.filter((delivery) => !first.has(delivery.webhookId)).length;
  report.figure('events committed (outbox)', outbox.events);
  report.figure('events delivered (distinct webhook-id received)', outbox.deliveries.length - missing);
  report.figure('duplicate receipts (at least once)', duplicates);
  report.figure(
    'commit to delivery',
    `p50 ${(percentile(delays, 50) / 1000).toFixed(2)} s, p99 ${(percentile(delays, 99) / 1000).toFixed(2)} s, max ${(Math.max(0, ...delays) / 1000).toFixed(1)} s`,
  );
  report.check(
    'every acknowledged publish and correction has its event',
    outbox.events >= acknowledgedPublishes,
    `${outbox.events} events, ${acknowledgedPublishes} acknowledged writes`,
  );
  report.check(
    'every committed event fanned out to the endpoint',
    outbox.deliveries.length === outbox.events,
    `${outbox.deliveries.length} deliveries for ${outbox.events} events`,
  );
  report.check('every committed event delivered', missing === 0, `${missing} missing`);
}

const acknowledgedEvents = (recorder: Recorder) =>
  ['publish', 'correct'].reduce((sum, kind) => sum + (recorder.byKind.get(kind)?.length ?? 0), 0);

/** Writes for `seconds` against one API, with `during` run alongside; then drains and checks. */
async function scenarioRun(
  id: string,
  context: ScenarioContext,
  during: (setup: Setup, api: () => ApiProcess, replace: (api: ApiProcess) => void) => Promise<void>,
  extraEnv: Record<string, string> = {},
) {
  const { report, log, seconds } = context;
  const setup = await setUp(id, context, extraEnv);
  try {
    let api = await startApi({ ...setup.env, PORT: String(await freePort()) });
    await registerEndpoint(api, setup);
    const recorder = new Recorder();
    let done = false;
    log(`${WRITERS} writers for ${seconds} s`);
    const writing = write(
      () => [api.url],
      setup,
      () => done,
      recorder,
    );
    await Promise.all([
      during(
        setup,
        () => api,
        (next) => (api = next),
      ),
      sleep(seconds * 1000).then(() => (done = true)),
    ]);
    await writing;
    report.figure('writes', recorder.describeKinds());
    if (context.embedded) {
      // One process at a time on the embedded database: let the API deliver, then stop it to read.
      await drain(setup, async () => acknowledgedEvents(recorder), 240, log);
      await api.stop();
    } else {
      await drain(setup, () => setup.database.use(async (db) => (await readOutbox(db)).events), 240, log);
      await api.stop();
    }
    const outbox = await setup.database.use(readOutbox);
    reportDeliveries(report, outbox, setup, acknowledgedEvents(recorder));
  } finally {
    await setup.receiver.stop();
    await setup.database.drop();
  }
}

export const webhooksReceiverDown: Scenario = {
  id: 'webhooks-receiver-down',
  summary: 'the receiver refuses connections for 2 minutes mid-run; every committed event is delivered afterwards',
  defaultSeconds: 150,
  quick: false,
  embedded: true,
  run: (context) =>
    scenarioRun('webhooks-receiver-down', context, async (setup) => {
      const downFor = Math.min(120, context.seconds * 0.8);
      await sleep(Math.min(10, context.seconds * 0.1) * 1000);
      context.log(`receiver down for ${downFor} s`);
      await setup.receiver.stop();
      await sleep(downFor * 1000);
      await setup.receiver.start();
      context.log('receiver up again');
      context.report.figure('receiver down', `${downFor} s`);
    }),
};

export const webhooksKill: Scenario = {
  id: 'webhooks-kill',
  summary: 'the API process is SIGKILLed while delivering (receiver answers in 300 ms), then restarted; every committed event is delivered',
  defaultSeconds: 20,
  quick: false,
  embedded: true,
  run: (context) =>
    scenarioRun('webhooks-kill', context, async (setup, api, replace) => {
      setup.receiver.delayMs = 300;
      await sleep(context.seconds * 500);
      const before = setup.receiver.receipts.length;
      api().signal('SIGKILL');
      await api().exited;
      context.log(`SIGKILL after ${before} receipts; restarting`);
      replace(await startApi({ ...setup.env, PORT: new URL(api().url).port }));
      context.report.figure('receipts before the kill', before);
    }),
};

export const webhooksTwoProcesses: Scenario = {
  id: 'webhooks-two-processes',
  summary: 'two API processes on one database, both delivering; no event lost, duplicates counted',
  defaultSeconds: 20,
  quick: false,
  embedded: false,
  run: async (context) => {
    const { report, log, seconds } = context;
    const setup = await setUp('webhooks-two-processes', context);
    try {
      const apis = [
        await startApi({ ...setup.env, PORT: String(await freePort()) }),
        await startApi({ ...setup.env, PORT: String(await freePort()) }),
      ];
      await registerEndpoint(apis[0]!, setup);
      setup.receiver.delayMs = 20;
      const recorder = new Recorder();
      let done = false;
      log(`${WRITERS} writers across two processes for ${seconds} s`);
      const writing = write(
        () => apis.map((api) => api.url),
        setup,
        () => done,
        recorder,
      );
      await sleep(seconds * 1000);
      done = true;
      await writing;
      report.figure('writes', recorder.describeKinds());
      await drain(setup, () => setup.database.use(async (db) => (await readOutbox(db)).events), 240, log);
      const attempts = await setup.database.use((db) =>
        sql<{ n: string }>`select coalesce(sum(attempts), 0) as n from webhook_deliveries`.execute(db),
      );
      report.figure('attempts recorded', Number(attempts.rows[0]!.n));
      await Promise.all(apis.map((api) => api.stop()));
      reportDeliveries(report, await setup.database.use(readOutbox), setup, acknowledgedEvents(recorder));
    } finally {
      await setup.receiver.stop();
      await setup.database.drop();
    }
  },
};

export const webhooksSlowReceiver: Scenario = {
  id: 'webhooks-slow-receiver',
  summary: "the receiver takes 10 s to answer; the API's own latency (list, writes) is compared with a fast receiver",
  defaultSeconds: 20,
  quick: false,
  embedded: true,
  run: async (context) => {
    const { report, log, seconds } = context;
    const setup = await setUp('webhooks-slow-receiver', context, { WEBHOOKS_TIMEOUT_MS: '15000' });
    try {
      const api = await startApi({ ...setup.env, PORT: String(await freePort()) });
      await registerEndpoint(api, setup);
      const phase = async (name: string, delayMs: number) => {
        setup.receiver.delayMs = delayMs;
        const recorder = new Recorder();
        let done = false;
        const reading = runClients(
          2,
          () => done,
          async () => {
            recorder.record('list', await call(api.url, 'GET', '/v1/incidents?limit=20&sort=-updated', { key: setup.editor }));
          },
        );
        const writing = write(
          () => [api.url],
          setup,
          () => done,
          recorder,
        );
        await sleep((seconds / 2) * 1000);
        done = true;
        await Promise.all([reading, writing]);
        log(`${name}: ${recorder.describeKinds()}`);
        report.figure(`API latency, receiver ${name}`, recorder.describeKinds());
        return recorder;
      };
      const fast = await phase('fast (0 s)', 0);
      const receivedBefore = setup.receiver.receipts.length;
      const slow = await phase('slow (10 s)', 10_000);
      // The reads are the measure: the writes also make the events, so their rate differs between the phases.
      const list = (recorder: Recorder) => recorder.byKind.get('list') ?? [];
      const p99 = (recorder: Recorder) => percentile(list(recorder), 99);
      const p50 = (recorder: Recorder) => percentile(list(recorder), 50);
      const slowDeliveries = setup.receiver.receipts.length - receivedBefore;
      report.figure('deliveries answered by the slow receiver during its phase', slowDeliveries);
      report.check(
        'list p50 with the slow receiver within 1.5x (+5 ms) of the fast one',
        p50(slow) <= p50(fast) * 1.5 + 5,
        `${p50(fast).toFixed(0)} ms -> ${p50(slow).toFixed(0)} ms`,
      );
      report.check(
        'list p99 with the slow receiver within 2x (+20 ms) of the fast one',
        p99(slow) <= p99(fast) * 2 + 20,
        `${p99(fast).toFixed(0)} ms -> ${p99(slow).toFixed(0)} ms`,
      );
      report.check(
        'only 2xx answers',
        slow.unexpected(() => false) + fast.unexpected(() => false) === 0,
        `${fast.describeOutcomes()}; ${slow.describeOutcomes()}`,
      );
      await api.stop();
    } finally {
      await setup.receiver.stop();
      await setup.database.drop();
    }
  },
};

export const webhookScenarios = [webhooksReceiverDown, webhooksKill, webhooksTwoProcesses, webhooksSlowReceiver];
