import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Actor } from '../src/auth/actor.ts';
import type { Db } from '../src/db/create-db.ts';
import { CSV_EXPORT_SETTINGS } from '../src/exports/csv-export.ts';
import { EXPORT_BATCH_SIZE } from '../src/exports/export.routes.ts';
import { selectIncidentCsvLines, type ExportSort } from '../src/exports/incident-csv.ts';
import { listIncidentsQuerySchema } from '../src/incidents/incident.schemas.ts';
import type { BenchDatabase } from './database.ts';

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
  const rss = () => (serverPid ? (status(serverPid, 'VmRSS') ?? 0) : process.memoryUsage.rss());
  const baselineRss = rss();
  const hwmReset = resetPeakRss(serverPid ?? 'self');
  let peakRss = baselineRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rss())), 10);
  const started = performance.now();
  const auth = Object.entries(headers)
    .map(([name, value]) => `-H '${name}: ${value}'`)
    .join(' ');
  const output = await shell(`set -o pipefail; curl -sS --fail ${auth} '${baseUrl}${EXPORT_PATH}' | wc -lc`);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const [lines, bytes] = output.trim().split(/\s+/).map(Number) as [number, number];
  // CRLF records, one header row, no line breaks inside the generated fields.
  return { rows: lines - 1, bytes, seconds, baselineRss, peakRss, peakHwm: hwmReset ? status(serverPid ?? 'self', 'VmHWM') : undefined };
}

/**
 * The statements of an unfiltered CSV export, as src/exports/csv-export.ts sends them: the
 * settings, the cursor over the lines, and the FETCH that reads it.
 */
export function exportQueries(db: Db, actor: Actor) {
  const { sort, cursor: _c, limit: _l, includeTotal: _t, ...filters } = listIncidentsQuerySchema.parse({});
  const lines = selectIncidentCsvLines(db, actor, { kind: 'export', filters, sort: sort as ExportSort }).compile();
  return {
    settings: CSV_EXPORT_SETTINGS.map((setting) => setting.compile(db).sql),
    lines: { sql: lines.sql, parameters: lines.parameters },
    fetch: `fetch forward ${EXPORT_BATCH_SIZE} from incident_csv`,
  };
}

/** The export's SQL floor: the same cursor read to the end in one read-only repeatable-read transaction. */
export async function measureExportFloor(database: BenchDatabase, actor: Actor): Promise<{ rows: number; seconds: number }> {
  const { settings, lines, fetch } = exportQueries(database.handle.db, actor);
  const started = performance.now();
  const rows = await database.session(async (raw) => {
    await raw('begin isolation level repeatable read read only', []);
    for (const setting of settings) await raw(setting, []);
    await raw(`declare incident_csv no scroll cursor for ${lines.sql}`, lines.parameters);
    let count = 0;
    for (;;) {
      const batch = await raw(fetch, []);
      count += batch.length;
      if (batch.length < EXPORT_BATCH_SIZE) break;
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
 * With npm start's own Node flags, read from package.json (--optimize-for-size: BENCHMARKS.md).
 */
export async function startServerProcess(databaseUrl: string) {
  const port = await freePort();
  const startScript = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start;
  const [, ...startArguments] = startScript.split(/\s+/);
  const child = spawn(process.execPath, startArguments, {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_ANONYMOUS: '1000000000',
      RATE_LIMIT_AUTHENTICATED: '1000000000',
      REDIS_URL: '',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (
      await fetch(`${url}/readyz`).then(
        (response) => response.ok,
        () => false,
      )
    )
      break;
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
