import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { createApp } from '../src/app.ts';
import { insertApiKey } from '../src/auth/api-key.queries.ts';
import type { Config } from '../src/config.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { startEncryption } from '../src/incidents/encryption-start.ts';
import { createLogger } from '../src/logger.ts';
import { BENCH_DATABASE, openEmbedded, openPostgres } from './database.ts';

/**
 * npm run bench -- --only names: precision and recall of search (q) and of duplicate flagging
 * over the name pairs of test/fixtures/name-variants.json (positives: one person's name in two
 * spellings or scripts; negatives: different people with a shared or similar name), through the
 * real app over HTTP, on a small database of its own: the embedded one, or PostgreSQL when
 * BENCH_DATABASE is set (that database is dropped and created again: do not name the 1M one).
 *
 * Per pair, incident A names a and incident B names b, created in that order through
 * POST /v1/incidents, each pair on its own day and in its own city, same country and attack
 * type: only the names tell them apart. Duplicates: B's possibleDuplicates holds A (one check
 * per pair). Search: q=b finds A, and q=a finds B (two checks per pair). A positive found is a
 * true positive, a negative found a false positive. Pairs marked knownLimitation count like any
 * other; the second line leaves them out.
 */
interface Pair {
  a: string;
  b: string;
  kind: string;
  knownLimitation?: { search?: string; duplicates?: string };
}

export async function benchNames(options: { config: Config; serverUrl: string; log: (message?: string) => void }) {
  const { log } = options;
  const fixture = JSON.parse(readFileSync(new URL('../test/fixtures/name-variants.json', import.meta.url), 'utf8')) as {
    positives: Pair[];
    negatives: Pair[];
  };
  const database = process.env.BENCH_DATABASE
    ? await openPostgres(options.serverUrl, { recreate: true, poolMax: 4, statementTimeoutMs: options.config.STATEMENT_TIMEOUT_MS })
    : await openEmbedded();
  log(
    `\nNames across alphabets (bench/names.ts) on ${database.description}${process.env.BENCH_DATABASE ? ` (${BENCH_DATABASE})` : ''}; load average ${loadAverage()} before.`,
  );
  try {
    await migrateToLatest(database.handle.db);
    await startEncryption(database.handle.db, { key: process.env.DATA_ENCRYPTION_KEY });
    const organisation = await database.appDb
      .insertInto('organisations')
      .values({ name: 'Names bench' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const { key } = await insertApiKey(database.appDb, { organisationId: organisation.id, name: 'names bench editor', role: 'editor' });
    const http = createApp({ db: database.appDb, config: options.config, logger: createLogger('silent') }).listen(0, '127.0.0.1');
    await once(http, 'listening');
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    try {
      const started = performance.now();
      const pairs = [
        ...fixture.positives.map((pair) => ({ ...pair, positive: true })),
        ...fixture.negatives.map((pair) => ({ ...pair, positive: false })),
      ];
      const created: Array<{ a: string; b: string }> = [];
      const duplicates = new Tally();
      for (const [index, pair] of pairs.entries()) {
        const create = async (name: string) => {
          const response = await fetch(`${url}/v1/incidents`, {
            method: 'POST',
            headers,
            body: JSON.stringify({
              title: `Case ${index}`,
              date: { precision: 'day', value: `${1900 + index}-06-01` },
              location: { country: 'LB', city: `Town ${index}` },
              attackTypes: ['killing'],
              victims: [{ name, role: 'journalist', outcome: 'killed' }],
            }),
          });
          if (response.status !== 201) throw new Error(`create ${name}: ${response.status} ${await response.text()}`);
          return (await response.json()) as { id: string; possibleDuplicates: Array<{ id: string }> };
        };
        const a = await create(pair.a);
        const b = await create(pair.b);
        created.push({ a: a.id, b: b.id });
        duplicates.add(
          pair,
          Boolean(pair.knownLimitation?.duplicates),
          b.possibleDuplicates.some((candidate) => candidate.id === a.id),
        );
      }

      const search = new Tally();
      let results = 0;
      let queries = 0;
      for (const [index, pair] of pairs.entries()) {
        for (const [q, wanted] of [
          [pair.b, created[index]!.a],
          [pair.a, created[index]!.b],
        ] as const) {
          const found = await searchIds(url, headers, q);
          results += found.length;
          queries++;
          search.add(pair, Boolean(pair.knownLimitation?.search), found.includes(wanted));
        }
      }
      const seconds = ((performance.now() - started) / 1000).toFixed(1);

      log(
        `${fixture.positives.length} variant pairs, ${fixture.negatives.length} negative pairs; ${pairs.length * 2} incidents; ${seconds} s; load average ${loadAverage()} after.`,
      );
      log('| | checks | precision | recall | false positives | false negatives |');
      log('| --- | ---: | ---: | ---: | --- | --- |');
      log(search.row('search (q=b finds A, q=a finds B)'));
      log(duplicates.row('duplicates (B flagged against A)'));
      log(search.row('search, without known limitations', true));
      log(duplicates.row('duplicates, without known limitations', true));
      log(`Search answers held ${(results / queries).toFixed(1)} incidents on average (of ${pairs.length * 2}).`);
    } finally {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  } finally {
    await database.close();
  }
}

async function searchIds(url: string, headers: Record<string, string>, q: string): Promise<string[]> {
  const ids: string[] = [];
  for (let cursor: string | undefined; ;) {
    const params = new URLSearchParams({ q, limit: '200', ...(cursor ? { cursor } : {}) });
    const response = await fetch(`${url}/v1/incidents?${params}`, { headers });
    if (response.status !== 200) throw new Error(`search ${q}: ${response.status} ${await response.text()}`);
    const page = (await response.json()) as { data: Array<{ id: string }>; nextCursor?: string | null };
    ids.push(...page.data.map((incident) => incident.id));
    if (!page.nextCursor) return ids;
    cursor = page.nextCursor;
  }
}

class Tally {
  private checks: Array<{ pair: Pair & { positive: boolean }; known: boolean; found: boolean }> = [];

  add(pair: Pair & { positive: boolean }, known: boolean, found: boolean) {
    this.checks.push({ pair, known, found });
  }

  row(label: string, withoutKnown = false) {
    const checks = this.checks.filter((check) => !withoutKnown || !check.known);
    const tp = checks.filter((check) => check.pair.positive && check.found).length;
    const fp = checks.filter((check) => !check.pair.positive && check.found);
    const fn = checks.filter((check) => check.pair.positive && !check.found);
    const names = (list: typeof checks) => [...new Set(list.map((check) => `${check.pair.a} / ${check.pair.b}`))].join('; ') || '-';
    const percent = (value: number) => (Number.isFinite(value) ? `${(value * 100).toFixed(1)} %` : 'n/a');
    return `| ${label} | ${checks.length} | ${percent(tp / (tp + fp.length))} | ${percent(tp / (tp + fn.length))} | ${fp.length}: ${names(fp)} | ${fn.length}: ${names(fn)} |`;
  }
}

function loadAverage() {
  return os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' / ');
}
