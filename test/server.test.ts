import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config.ts';

/**
 * The real server as `npm start` runs it, always on the embedded database (whatever mode the
 * rest of the run uses), in a fresh data folder.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const START_ARGS = ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/server.ts'];

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

interface RunningServer {
  child: ChildProcess;
  url: string;
  logs: LogLine[];
  rawStdout: string[];
  stderr: () => string;
  exited: Promise<number | null>;
  waitForLog: (match: (line: LogLine) => boolean, timeoutMs?: number) => Promise<LogLine>;
}

const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Starts the server with only `env` as its configuration: no setting leaks in from the test run. */
function startServer(env: Record<string, string>): RunningServer {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !(name in configSchema.shape)));
  // The test run's data encryption key, so no key file is created next to the temporary data folder.
  const key = { DATA_ENCRYPTION_KEY: process.env.DATA_ENCRYPTION_KEY! };
  const child = spawn(process.execPath, START_ARGS, { cwd: root, env: { ...inherited, LOG_LEVEL: 'info', ...key, ...env }, stdio: 'pipe' });
  children.push(child);
  const logs: LogLine[] = [];
  const rawStdout: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    rawStdout.push(line);
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      // kept in rawStdout; the first test asserts there are none of these
    }
  });
  let exitCode: number | null | undefined;
  let exitSignal: string | null = null;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code;
      exitSignal = signal;
      resolve(code);
    }),
  );

  const waitForLog = async (match: (line: LogLine) => boolean, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = logs.find(match);
      if (found) return found;
      if (exitCode !== undefined || Date.now() > deadline) {
        throw new Error(
          `log line not found (exit code ${exitCode}, signal ${exitSignal}); stdout:\n${rawStdout.join('\n')}\nstderr:\n${stderr}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  return { child, url: `http://127.0.0.1:${env.PORT}`, logs, rawStdout, stderr: () => stderr, exited, waitForLog };
}

async function startListening(env: Record<string, string>): Promise<RunningServer> {
  const server = startServer({ PORT: String(await freePort()), ...env });
  await server.waitForLog((line) => /is listening on port/.test(line.msg), 30_000);
  return server;
}

/** The exit code, or a failure (and SIGKILL) if the process is still running after `ms`. */
async function exitWithin(server: RunningServer, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      server.child.kill('SIGKILL');
      reject(new Error(`still running after ${ms} ms; stdout:\n${server.rawStdout.join('\n')}\nstderr:\n${server.stderr()}`));
    }, ms);
  });
  try {
    return await Promise.race([server.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function stop(server: RunningServer): Promise<number | null> {
  server.child.kill('SIGTERM');
  return exitWithin(server, 15_000);
}

async function getJson(url: string, key?: string) {
  const response = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: response.status, body: (await response.json()) as any };
}

/** Sends a request in two parts over a raw socket, so it is still in flight between them. */
function splitRequest(port: number, head: string, body: string) {
  const socket = net.connect(port, '127.0.0.1');
  let response = '';
  socket.on('data', (chunk) => (response += chunk.toString()));
  const done = new Promise<string>((resolve, reject) => {
    socket.on('end', () => resolve(response));
    socket.on('error', reject);
  });
  const connected = new Promise<void>((resolve) => socket.once('connect', resolve));
  const half = Math.floor(body.length / 2);
  return {
    sendFirstPart: async () => {
      await connected;
      await new Promise<void>((resolve) => socket.write(head + body.slice(0, half), () => resolve()));
    },
    sendRest: () => socket.end(body.slice(half)),
    done,
  };
}

describe('the server process (embedded database)', { timeout: 90_000 }, () => {
  let dataDir: string;
  let first: RunningServer;
  let adminKey: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'dateline-server-'));
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('on first start migrates, loads the sample incidents and prints a working admin key, all as JSON logs', async () => {
    first = await startListening({ DATA_DIR: dataDir });

    const migrated = await first.waitForLog((line) => line.msg === 'migrations applied');
    expect(migrated.migrations).toEqual(expect.arrayContaining([expect.stringMatching(/core$/)]));
    expect(first.logs.find((line) => line.msg === 'database opened')).toMatchObject({ mode: 'embedded', dataDir });
    await first.waitForLog((line) => line.msg === 'loaded the sample incidents');
    const keyLine = await first.waitForLog((line) => typeof line.adminKey === 'string');
    adminKey = keyLine.adminKey as string;
    expect(keyLine.level).toBe(40); // warn: a secret in the logs should stand out

    const incidents = await getJson(`${first.url}/v1/incidents`);
    expect(incidents.status).toBe(200);
    expect(incidents.body.data).toHaveLength(4);
    for (const incident of incidents.body.data) expect(incident.publishedAt).toEqual(expect.any(String));
    expect(incidents.body.data.filter((incident: any) => incident.verificationStatus === 'debunked')).toHaveLength(1);
    expect(incidents.body.data.find((incident: any) => incident.date.precision === 'range')?.date).toMatchObject({
      start: '2017-09-20',
      end: '2017-09-30',
    });

    expect((await getJson(`${first.url}/v1/organisations`)).status).toBe(401);
    const organisations = await getJson(`${first.url}/v1/organisations`, adminKey);
    expect(organisations.status).toBe(200);
    expect(organisations.body.data.map((organisation: any) => organisation.name)).toEqual(
      expect.arrayContaining(['Instance operators', 'Dateline sample data']),
    );

    // Every stdout line is a JSON log object from the service, request logs included.
    expect(first.rawStdout.length).toBeGreaterThan(0);
    expect(first.logs).toHaveLength(first.rawStdout.length);
    for (const line of first.logs) expect(line).toMatchObject({ service: 'dateline', level: expect.any(Number), time: expect.any(Number) });
    expect(first.logs.some((line) => (line.req as any)?.url === '/v1/incidents')).toBe(true);
    expect(first.logs.find((line) => (line.req as any)?.url === '/v1/organisations')?.req).not.toHaveProperty('headers');
  });

  it('refuses to open the same data folder from a second process', async () => {
    const second = startServer({ PORT: String(await freePort()), DATA_DIR: dataDir });
    const code = await exitWithin(second, 30_000);
    expect(code).not.toBe(0);
    const output = second.stderr() + second.rawStdout.join('\n');
    expect(output).toMatch(/is in use by process/);
    expect(output).toContain(String(first.child.pid));
    // The first server is unaffected.
    expect((await getJson(`${first.url}/readyz`)).body).toEqual({ status: 'ready' });
  });

  it('on SIGTERM stops taking connections, finishes the request in flight, then exits 0', async () => {
    const body = JSON.stringify({ name: 'Created during shutdown' });
    const request = splitRequest(
      Number(new URL(first.url).port),
      `POST /v1/organisations HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${adminKey}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
      body,
    );
    await request.sendFirstPart();

    first.child.kill('SIGTERM');
    await first.waitForLog((line) => line.msg === 'shutting down');
    expect(first.logs.find((line) => line.msg === 'shutting down')).toMatchObject({ signal: 'SIGTERM' });
    await expect(fetch(`${first.url}/healthz`)).rejects.toThrow(); // no new connections

    request.sendRest();
    const response = await request.done;
    expect(response).toMatch(/^HTTP\/1\.1 201 /);
    expect(response).toContain('"name":"Created during shutdown"');

    expect(await exitWithin(first, 8_000)).toBe(0);
    expect(first.logs.at(-1)?.msg).toBe('stopped');
    expect(existsSync(path.join(dataDir, 'dateline.lock'))).toBe(false);
  });

  it('on restart keeps its data and neither seeds again nor prints another admin key', async () => {
    const again = await startListening({ DATA_DIR: dataDir });
    try {
      expect((await getJson(`${again.url}/v1/incidents`)).body.data).toHaveLength(4);
      const organisations = await getJson(`${again.url}/v1/organisations`, adminKey);
      expect(organisations.status).toBe(200);
      expect(organisations.body.data.map((organisation: any) => organisation.name)).toContain('Created during shutdown');
      expect(again.logs.some((line) => 'adminKey' in line)).toBe(false);
      expect(again.rawStdout.join('\n')).not.toContain(adminKey);
      expect(again.logs.map((line) => line.msg)).not.toContain('loaded the sample incidents');
      expect(again.logs.map((line) => line.msg)).not.toContain('migrations applied');
    } finally {
      expect(await stop(again)).toBe(0);
    }
  });

  it('exits 1 and names the variable when the configuration is bad', async () => {
    const bad = startServer({ PORT: 'abc', DATA_DIR: dataDir });
    expect(await exitWithin(bad, 30_000)).toBe(1);
    expect(bad.stderr()).toContain('PORT="abc"');
    expect(bad.rawStdout).toEqual([]);
  });
});
