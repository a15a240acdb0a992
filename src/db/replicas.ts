import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import type { Logger } from '../logger.ts';
import type { Database } from './database.ts';
import { parseLsn, PrimaryPositions } from './replica-lag.ts';

/**
 * Read replicas (DATABASE_REPLICA_URLS): PostgreSQL streaming replicas that serve the reads that
 * may be a moment old. src/auth/read-routing.ts decides, per request, whether a read may go to
 * one; this file knows the replicas and picks one:
 *
 * - Every CHECK_EVERY_MS, one small query per server (its own connection, with a client-side timeout):
 *   the primary's WAL position; each replica's replayed position, data version
 *   and whether it is still in recovery. Routing reads only these figures: it costs a request
 *   nothing. Lag is measured from WAL positions (replica-lag.ts).
 * - A replica is skipped while it is unreachable, not in recovery (promoted), lagging beyond
 *   REPLICA_MAX_LAG_MS, or its last good check is too old (a hung server); the primary serves then.
 * - The data version never goes backwards for a reader (README, "Read replicas"): a replica is
 *   chosen only if its version is at least the highest this process has served on the replica
 *   path (its high-water mark), and at least the version in the client's ETag.
 * - A key that wrote, or read from the primary, reads from a replica only once that replica has
 *   replayed the primary's WAL position sampled after that request ended; until then, the primary.
 */

/** How often each server's position is checked, by default: lag is known to this precision. */
export const CHECK_EVERY_MS = 250;

type Db = Kysely<Database>;

export interface ReplicaStatus {
  name: string;
  /** Why it is skipped now; undefined while it may serve reads. */
  skipped: string | undefined;
  lagMs: number | undefined;
  dataVersion: number | undefined;
}

/** What a request reads from, decided once per request. */
export interface ReadChoice {
  db: Db;
  /** replica: one of the replicas; fallback: the primary, because no replica could; primary: the primary, by policy. */
  servedBy: 'replica' | 'fallback' | 'primary';
  /** The server's name (`primary`, `replica 1 (host:port)`) and why, for the debug log. */
  server: string;
  reason: string;
  /** The replica, and its failure count when chosen: a version it answers is credited to it only if it did not fail since. */
  replica?: { state: Replica; failures: number };
}

interface Replica {
  name: string;
  db: Db;
  poll: pg.Pool;
  polling: boolean;
  /** performance.now() of the last successful check. */
  checkedAt: number;
  recovering: boolean;
  replayed: bigint;
  lagMs: number | undefined;
  /** A lower bound of its data version: the last check, or a version it answered since. */
  knownVersion: number;
  /** The data version its last check read. */
  checkedVersion: number;
  /** Connections the primary gave in its stead (it failed, or was known down); counted to tell whose answer a version was. */
  failures: number;
  error: string | undefined;
  /** The skip reason last logged, to log changes only. */
  logged: string | undefined;
}

/** Per key: writes under way, and the primary position a replica must have replayed to serve its reads. */
interface KeyMark {
  writesInFlight: number;
  /** performance.now() when its last request served by the primary ended. */
  seenAt: number;
  /** The primary's position sampled after seenAt; undefined until the next check of the primary. */
  lsn: bigint | undefined;
}

export interface ReplicaSetOptions {
  primary: Db;
  /** A one-connection pool on the primary for the checks (client-side query timeout). */
  primaryPoll: pg.Pool;
  /** The primary's request pool: a replica's connection that fails falls back to it. */
  primaryPool: pg.Pool;
  replicas: Array<{ name: string; pool: pg.Pool; poll: pg.Pool }>;
  maxLagMs: number;
  checkEveryMs?: number | undefined;
}

export class ReplicaSet {
  readonly primary: Db;
  readonly maxLagMs: number;
  readonly #checkEveryMs: number;
  /** A replica whose last successful check is older than this is skipped (a hung server answers no check). */
  readonly #staleMs: number;
  readonly #primaryPoll: pg.Pool;
  readonly #replicas: Replica[];
  readonly #positions: PrimaryPositions;
  readonly #marks = new Map<string, KeyMark>();
  #primaryPolling = false;
  #primaryError: string | undefined;
  /** The highest data version this process has served on the replica path. */
  #highWater = 0;
  #next = 0;
  #timer: NodeJS.Timeout | undefined;
  #logger: Pick<Logger, 'warn' | 'info'> | undefined;

  constructor(options: ReplicaSetOptions) {
    this.primary = options.primary;
    this.maxLagMs = options.maxLagMs;
    this.#checkEveryMs = options.checkEveryMs ?? CHECK_EVERY_MS;
    this.#staleMs = Math.max(1_000, 4 * this.#checkEveryMs);
    this.#primaryPoll = options.primaryPoll;
    this.#positions = new PrimaryPositions(options.maxLagMs + 10 * this.#checkEveryMs);
    this.#replicas = options.replicas.map(({ name, pool, poll }) => {
      const state = {
        name,
        poll,
        polling: false,
        checkedAt: -Infinity,
        recovering: false,
        replayed: 0n,
        lagMs: undefined,
        knownVersion: 0,
        checkedVersion: 0,
        failures: 0,
        error: undefined,
        logged: undefined,
      } satisfies Omit<Replica, 'db'> as Omit<Replica, 'db'>;
      const connections = new FallbackPool(pool, options.primaryPool, {
        usable: () => state.error === undefined,
        fellBack: (error) => {
          state.failures++;
          if (error) state.error = `connection failed: ${error.message}`;
        },
      });
      return Object.assign(state, { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: connections }) }) });
    });
  }

  /** The handles reads may be given: the replicas' (src/app.ts keeps published facts in memory for each). */
  get replicaDbs(): Db[] {
    return this.#replicas.map((replica) => replica.db);
  }

  /** Starts the checks; state changes are logged (a replica skipped, and why; serving again). */
  start(logger?: Pick<Logger, 'warn' | 'info'>): void {
    this.#logger = logger;
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#tick(), this.#checkEveryMs);
    this.#timer.unref();
    this.#tick();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.all([this.#primaryPoll.end(), ...this.#replicas.flatMap((replica) => [replica.poll.end(), replica.db.destroy()])]);
  }

  /** The replicas as the last checks saw them (tests; the logs say the same as it changes). */
  status(): ReplicaStatus[] {
    const now = performance.now();
    return this.#replicas.map((replica) => ({
      name: replica.name,
      skipped: this.#skipReason(replica, now),
      lagMs: replica.lagMs,
      dataVersion: replica.knownVersion || undefined,
    }));
  }

  /** Checks every server once now (tests: to wait for a state without sleeping). */
  async checkNow(): Promise<void> {
    await this.#pollPrimary();
    await Promise.all(this.#replicas.map((replica) => this.#pollReplica(replica)));
  }

  /** The primary, for a read that must not go to a replica. */
  primaryChoice(reason: string): ReadChoice {
    return { db: this.primary, servedBy: 'primary', server: 'primary', reason };
  }

  /** The primary, for a read that could have gone to a replica: what it answers raises the high-water mark. */
  fallbackChoice(reason: string): ReadChoice {
    return { db: this.primary, servedBy: 'fallback', server: 'primary', reason };
  }

  /**
   * A replica for a read that may be a moment old, or the primary when none qualifies.
   * `clientVersion`: the data version the client has seen (its ETag); `key`: the API key asking.
   */
  choose({ clientVersion, key }: { clientVersion?: number | undefined; key?: string | undefined }): ReadChoice {
    const mark = key === undefined ? undefined : this.#marks.get(key);
    if (mark && (mark.writesInFlight > 0 || mark.lsn === undefined)) {
      return this.primaryChoice('this key wrote, or read from the primary, a moment ago');
    }
    const now = performance.now();
    const usable = this.#replicas.filter(
      (replica) =>
        this.#skipReason(replica, now) === undefined &&
        replica.knownVersion >= this.#highWater &&
        (mark?.lsn === undefined || replica.replayed >= mark.lsn),
    );
    if (!usable.length) {
      if (mark) return this.primaryChoice('no replica has replayed what this key saw on the primary');
      return this.fallbackChoice(`no replica is usable at data version ${this.#highWater} or later`);
    }
    // The client's ETag: a floor for its own answer only. Its primary answer does not raise the
    // high-water mark, so a forged ETag moves nobody's reads but the forger's to the primary.
    const eligible = usable.filter((replica) => replica.knownVersion >= (clientVersion ?? 0));
    if (!eligible.length) return this.primaryChoice(`the client holds data version ${clientVersion}, newer than any replica's`);
    const replica = eligible[this.#next++ % eligible.length]!;
    return {
      db: replica.db,
      servedBy: 'replica',
      server: replica.name,
      reason: `lag ${replica.lagMs} ms, data version ${replica.knownVersion}`,
      replica: { state: replica, failures: replica.failures },
    };
  }

  /** A request on the replica path was answered with this data version (from the chosen server). */
  served(choice: ReadChoice, dataVersion: number, from: Db): void {
    if (choice.servedBy === 'primary') return;
    this.#highWater = Math.max(this.#highWater, dataVersion);
    const replica = choice.replica;
    if (replica && from === choice.db && replica.state.failures === replica.failures) {
      replica.state.knownVersion = Math.max(replica.state.knownVersion, dataVersion);
    }
  }

  /** A key's write is under way: its reads go to the primary until it ends and a replica has replayed it. */
  writeStarted(key: string): void {
    const mark = this.#markOf(key);
    mark.writesInFlight++;
  }

  writeEnded(key: string): void {
    const mark = this.#markOf(key);
    mark.writesInFlight = Math.max(0, mark.writesInFlight - 1);
    this.primaryUsed(key);
  }

  /** A key's request was served by the primary: what it saw there must not be taken back by a replica. */
  primaryUsed(key: string): void {
    const mark = this.#markOf(key);
    mark.seenAt = performance.now();
    mark.lsn = undefined;
  }

  #markOf(key: string): KeyMark {
    let mark = this.#marks.get(key);
    if (!mark) this.#marks.set(key, (mark = { writesInFlight: 0, seenAt: performance.now(), lsn: undefined }));
    return mark;
  }

  #skipReason(replica: Replica, now: number): string | undefined {
    if (replica.error) return replica.error;
    if (now - replica.checkedAt > this.#staleMs) {
      return replica.checkedAt === -Infinity
        ? 'not checked yet'
        : `no answer to the position check for ${Math.round(now - replica.checkedAt)} ms`;
    }
    if (!replica.recovering) return 'not in recovery: promoted, or not a replica';
    if (replica.lagMs === undefined) return "the primary's position is not known yet";
    if (replica.lagMs > this.maxLagMs) return `${replica.lagMs} ms behind the primary (REPLICA_MAX_LAG_MS=${this.maxLagMs})`;
    return undefined;
  }

  #tick(): void {
    void this.#pollPrimary();
    for (const replica of this.#replicas) void this.#pollReplica(replica);
    const now = performance.now();
    for (const replica of this.#replicas) this.#logChange(replica, now);
  }

  async #pollPrimary(): Promise<void> {
    if (this.#primaryPolling) return;
    this.#primaryPolling = true;
    const at = performance.now();
    try {
      const { rows } = await this.#primaryPoll.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
      const lsn = parseLsn(rows[0]!.lsn);
      this.#positions.add({ at, lsn });
      if (this.#primaryError) this.#logger?.info('replicas: the primary answers its position check again');
      this.#primaryError = undefined;
      const forgetBefore = at - this.maxLagMs - 10_000;
      for (const [key, mark] of this.#marks) {
        if (mark.lsn === undefined && mark.seenAt < at) mark.lsn = lsn;
        // Every replica that may serve reads is within maxLagMs, so it has replayed this key's requests by now.
        else if (mark.writesInFlight === 0 && mark.seenAt < forgetBefore) this.#marks.delete(key);
      }
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.#primaryError) {
        this.#logger?.warn(
          { err: error },
          "replicas: could not read the primary's WAL position; lag is measured against the last one read",
        );
      }
      this.#primaryError = message;
    } finally {
      this.#primaryPolling = false;
    }
  }

  async #pollReplica(replica: Replica): Promise<void> {
    if (replica.polling) return;
    replica.polling = true;
    const at = performance.now();
    try {
      const { rows } = await replica.poll.query<{ recovering: boolean; replayed: string | null; version: number | null }>(
        `select pg_is_in_recovery() as recovering, pg_last_wal_replay_lsn()::text as replayed,
          (select version from data_version) as version`,
      );
      const row = rows[0]!;
      replica.recovering = row.recovering;
      replica.replayed = row.replayed === null ? 0n : parseLsn(row.replayed);
      replica.lagMs = this.#positions.lagMs(replica.replayed, at);
      const version = row.version ?? 0;
      if (version < replica.checkedVersion) {
        // A replica rebuilt from an older backup behind the same address: the high-water mark
        // keeps readers from seeing its older data until it has caught up.
        this.#logger?.warn(
          { replica: replica.name, dataVersion: version, before: replica.checkedVersion },
          'replicas: a replica went back to an older data version (rebuilt?); it serves reads again once it has caught up',
        );
        replica.knownVersion = version;
      }
      // A version it answered while this check ran may be newer than what the check read.
      replica.knownVersion = Math.max(replica.knownVersion, version);
      replica.checkedVersion = version;
      replica.error = undefined;
      replica.checkedAt = at;
    } catch (error) {
      replica.error = `unreachable: ${(error as Error).message}`;
    } finally {
      replica.polling = false;
    }
  }

  #logChange(replica: Replica, now: number): void {
    const reason = this.#skipReason(replica, now);
    if (reason === replica.logged || (replica.logged === undefined && reason === 'not checked yet')) return;
    if (reason === undefined) {
      this.#logger?.info({ replica: replica.name, lagMs: replica.lagMs }, 'replicas: a replica serves reads again');
    } else if (reason !== 'not checked yet') {
      this.#logger?.warn(
        { replica: replica.name, reason },
        'replicas: a replica is skipped; the primary or another replica serves its reads',
      );
    }
    replica.logged = reason;
  }
}

interface FallbackHealth {
  /** False while the replica is known to be down: the primary's connection is taken without trying. */
  usable: () => boolean;
  /** The primary gave the connection (with the error, when the replica refused it). */
  fellBack: (error?: Error) => void;
}

/**
 * A replica's connections, or the primary's when the replica cannot give one: a request that was
 * routed to a replica just as it stopped is served by the primary instead of failing. (A
 * connection already lent when the replica stops fails its query: that request gets a 503.)
 */
class FallbackPool implements PostgresPool {
  readonly #replica: pg.Pool;
  readonly #primary: pg.Pool;
  readonly #health: FallbackHealth;

  constructor(replica: pg.Pool, primary: pg.Pool, health: FallbackHealth) {
    this.#replica = replica;
    this.#primary = primary;
    this.#health = health;
  }

  get options(): object {
    return this.#replica.options;
  }

  get Client() {
    return (this.#replica as unknown as PostgresPool).Client;
  }

  async connect(): Promise<PostgresPoolClient> {
    if (this.#health.usable()) {
      try {
        return await this.#replica.connect();
      } catch (error) {
        this.#health.fellBack(error as Error);
        return this.#primary.connect();
      }
    }
    this.#health.fellBack();
    return this.#primary.connect();
  }

  /** Ends the replica's pool only: the primary's belongs to the primary's handle. */
  end(): Promise<void> {
    return this.#replica.end();
  }
}

/** The replica set of a primary's handle, found from it or from any of its replicas' handles. */
const registry = new WeakMap<Db, ReplicaSet>();

export function registerReplicaSet(replicas: ReplicaSet): void {
  for (const db of [replicas.primary, ...replicas.replicaDbs]) registry.set(db, replicas);
}

/** The replicas behind this handle; undefined without DATABASE_REPLICA_URLS (the handle is the only database). */
export function replicaSetOf(db: Db): ReplicaSet | undefined {
  return registry.get(db);
}
