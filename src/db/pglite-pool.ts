import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/**
 * PGlite is a single connection. Kysely's PostgresDialect expects a pool, and runs a
 * transaction as BEGIN ... COMMIT on whichever connection the pool lends it. If two requests
 * shared the one connection at the same time, the second would run inside the first one's
 * transaction. This pool lends the connection to one caller at a time and queues the rest,
 * which gives embedded mode the same isolation a real pool gives PostgreSQL.
 */
export class PGlitePool implements PostgresPool {
  readonly #pglite: PGlite;
  #busy = false;
  readonly #waiting: Array<(client: PostgresPoolClient) => void> = [];
  #ended = false;
  readonly options = {};

  readonly #onEnd: () => void;

  constructor(pglite: PGlite, onEnd: () => void = () => {}) {
    this.#pglite = pglite;
    this.#onEnd = onEnd;
  }

  async connect(): Promise<PostgresPoolClient> {
    if (this.#ended) throw new Error('The embedded database has been closed');
    if (!this.#busy) {
      this.#busy = true;
      return this.#lease();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  async end(): Promise<void> {
    this.#ended = true;
    await this.#pglite.close();
    this.#onEnd();
  }

  #lease(): PostgresPoolClient {
    let released = false;
    return {
      query: async (sql: string, parameters: ReadonlyArray<unknown>) => {
        if (released) throw new Error('Query on a released embedded connection');
        return toPgResult(sql, await this.#pglite.query(sql, parameters as unknown[]));
      },
      release: () => {
        if (released) return;
        released = true;
        const next = this.#waiting.shift();
        if (next) next(this.#lease());
        else this.#busy = false;
      },
    } as PostgresPoolClient;
  }
}

function toPgResult(sql: string, result: { rows: unknown[]; affectedRows?: number }): PostgresQueryResult<unknown> {
  // Kysely reads `command` to decide whether rowCount means "rows affected"; PGlite does not
  // report it, so take it from the statement's first keyword as pg does.
  const keyword = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '';
  const writes = keyword === 'WITH' && (result.affectedRows ?? 0) > 0 ? 'UPDATE' : keyword;
  return {
    command: writes as PostgresQueryResult<unknown>['command'],
    rowCount: result.affectedRows ?? result.rows.length,
    rows: result.rows,
  };
}
