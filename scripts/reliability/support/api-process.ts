import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../../../src/config.ts';
import { sleep } from './load.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
/** Exactly what `npm start` runs. */
const START_ARGS = ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/server.ts'];

export interface ApiProcess {
  url: string;
  pid: number;
  /** Resolves when the process has exited, with how. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The server's last log lines (stdout and stderr), for a failure message. */
  recentOutput: () => string;
  /** Resident memory in MB, from /proc (Linux). */
  rssMb: () => number | undefined;
  signal: (name: NodeJS.Signals) => void;
  /** SIGTERM and wait for the exit. */
  stop: () => Promise<void>;
}

const running = new Set<ApiProcess>();

/**
 * Starts the real API as a child process and waits until /readyz answers 200. Only `env` (plus
 * loopback defaults) configures it: no Dateline setting leaks in from the caller's environment.
 */
export async function startApi(env: Record<string, string>): Promise<ApiProcess> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !(name in configSchema.shape)));
  const port = env.PORT ?? String(await freePort());
  const child = spawn(process.execPath, START_ARGS, {
    cwd: root,
    env: { ...inherited, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env, PORT: port },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      output.push(line);
      if (output.length > 50) output.shift();
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const api: ApiProcess = {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    exited,
    recentOutput: () => output.join('\n'),
    rssMb: () => {
      try {
        const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
        return kb ? Number(kb) / 1024 : undefined;
      } catch {
        return undefined;
      }
    },
    signal: (name) => {
      if (!hasExited) child.kill(name);
    },
    stop: async () => {
      api.signal('SIGTERM');
      await exited;
    },
  };
  running.add(api);
  void exited.then(() => running.delete(api));

  for (const started = Date.now(); ;) {
    const ready = await fetch(`${api.url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return api;
    if (hasExited || Date.now() - started > 60_000) {
      api.signal('SIGKILL');
      throw new Error(`the API did not become ready; its output:\n${api.recentOutput()}`);
    }
    await sleep(100);
  }
}

/** Leaves no server behind when a scenario fails half-way. */
export async function killAllStartedApis(): Promise<void> {
  await Promise.all([...running].map((api) => (api.signal('SIGKILL'), api.exited)));
}

export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
