import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Actor } from '../src/auth/actor.ts';
import { getDataVersion } from '../src/db/data-version.ts';
import { EXPORT_BATCH_SIZE } from '../src/exports/export.routes.ts';
import { listIncidentPage } from '../src/incidents/incident-list.queries.ts';
import { listIncidentsQuerySchema } from '../src/incidents/incident.schemas.ts';
import type { BenchDatabase } from './database.ts';
import { captureQueries } from './floor.ts';

/**
 * The full export: one request, read by curl in a child process (so the client's work does not
 * land on the server's event loop), rows counted by wc. The server runs in this process, so its
 * peak memory is this process's: the kernel's high-water mark (VmHWM) is reset just before the
 * request and read after it, and RSS is also sampled every 10 ms to report the growth.
 */
export const EXPORT_PATH = '/v1/incidents/export?format=csv';

export interface ExportResult {
  rows: number;
  bytes: number;
  seconds: number;
  baselineRss: number;
  peakRss: number;
  /** VmHWM after a reset, when the kernel allows the reset. */
  peakHwm: number | undefined;
}

export async function exportExists(baseUrl: string, headers: Record<string, string>): Promise<boolean> {
  const response = await fetch(`${baseUrl}${EXPORT_PATH}`, { method: 'HEAD', headers });
  return response.status === 200;
}

export async function measureExport(baseUrl: string, headers: Record<string, string>, serverPid?: number): Promise<ExportResult> {
  (globalThis as { gc?: () => void }).gc?.();
  const rss = () => (serverPid ? status(serverPid, 'VmRSS') ?? 0 : process.memoryUsage.rss());
  const baselineRss = rss();
  const hwmReset = resetPeakRss(serverPid ?? 'self');
  let peakRss = baselineRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rss())), 10);
  const started = performance.now();
  const auth = Object.entries(headers).map(([name, value]) => `-H '${name}: ${value}'`).join(' ');
  const output = await shell(`set -o pipefail; curl -sS --fail ${auth} '${baseUrl}${EXPORT_PATH}' | wc -lc`);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const [lines, bytes] = output.trim().split(/\s+/).map(Number) as [number, number];
  // CRLF records, one header row, no line breaks inside the generated fields.
  return { rows: lines - 1, bytes, seconds, baselineRss, peakRss, peakHwm: hwmReset ? status(serverPid ?? 'self', 'VmHWM') : undefined };
}

/**
 * The statements of an unfiltered export: the data version, the first batch, and the next
 * batch with marker values where the keyset cursor (last date_start and id) goes.
 */
export async function exportQueries(actor: Actor) {
  const { sort, cursor: _c, limit: _l, includeTotal: _t, ...filters } = listIncidentsQuerySchema.parse({});
  const marker = { key: '__bench_key__', id: '__bench_id__' };
  const [version, first] = await captureQueries(getDataVersion, (db) => listIncidentPage(db, actor, { filters, sort, limit: EXPORT_BATCH_SIZE }));
  const [next] = await captureQueries((db) => listIncidentPage(db, actor, { filters, sort, limit: EXPORT_BATCH_SIZE, after: { sort, ...marker } }));
  if (!version || !first || !next) throw new Error('the export statements were not captured');
  return { version, first, next, keyAt: next.parameters.indexOf(marker.key), idAt: next.parameters.indexOf(marker.id) };
}

/** The export's SQL floor: the same keyset batches in one read-only repeatable-read transaction. */
export async function measureExportFloor(database: BenchDatabase, actor: Actor): Promise<{ rows: number; seconds: number }> {
  const { version, first, next, keyAt, idAt } = await exportQueries(actor);
  const started = performance.now();
  const rows = await database.session(async (raw) => {
    await raw('begin isolation level repeatable read read only', []);
    await raw(version.sql, version.parameters);
    let count = 0;
    let page = await raw(first.sql, first.parameters);
    for (;;) {
      const batch = page.slice(0, EXPORT_BATCH_SIZE);
      count += batch.length;
      if (page.length <= EXPORT_BATCH_SIZE) break;
      const last = batch.at(-1)!;
      const parameters = [...next.parameters];
      parameters[keyAt] = last.date_start;
      parameters[idAt] = last.id;
      page = await raw(next.sql, parameters);
    }
    await raw('commit', []);
    return count;
  });
  return { rows, seconds: (performance.now() - started) / 1000 };
}

/** Writing 5 to clear_refs resets the peak RSS (VmHWM) of a process to its current RSS. */
function resetPeakRss(pid: number | 'self'): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

function status(pid: number | 'self', field: 'VmHWM' | 'VmRSS'): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : undefined;
}

/**
 * `npm start` as a child process on the same database (PostgreSQL only), so the export's peak
 * memory is the server's alone: nothing of the benchmark (autocannon, the floor's pool) in it.
 * With npm start's flags: --max-semi-space-size=16 caps V8's young generation, which otherwise
 * grows by some 200 MB during a long export (a 68k-row export: peak RSS 383 MB without it,
 * 276 MB with it, same CPU per row); a flag, because V8 sizes its heap before any code runs.
 */
export async function startServerProcess(databaseUrl: string) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--max-semi-space-size=16', '--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/server.ts'], {
    env: {
      ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn',
      RATE_LIMIT_ANONYMOUS: '1000000000', RATE_LIMIT_AUTHENTICATED: '1000000000', REDIS_URL: '',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (await fetch(`${url}/readyz`).then((response) => response.ok, () => false)) break;
    if (attempt > 300 || child.exitCode !== null) throw new Error('the server process did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function shell(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} exited with ${code}`))));
  });
}
