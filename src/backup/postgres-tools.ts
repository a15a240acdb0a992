import { execFile, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';

/**
 * pg_dump and pg_restore, run as child processes. The password never appears on their command
 * line (where `ps` would show it): it goes in PGPASSWORD, the rest of DATABASE_URL as --dbname.
 */
export type PgTool = 'pg_dump' | 'pg_restore';

export function libpqConnection(databaseUrl: string): { dbname: string; env: NodeJS.ProcessEnv; display: string } {
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const display = `${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
  return { dbname: url.toString(), env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) }, display };
}

/** The tool's major version; a missing tool is an error that says how to install it. */
export async function toolMajorVersion(tool: PgTool, command: string): Promise<number> {
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(command, ['--version']));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES')
      throw new Error(
        `${tool} was not found (tried "${command}"). A PostgreSQL backup needs the PostgreSQL client tools, of the ` +
          `server's major version or newer: on Debian or Ubuntu \`apt-get install postgresql-client\` (or postgresql-client-NN ` +
          `from apt.postgresql.org), on macOS \`brew install libpq\`. Or give its path: --${tool.replace('_', '-')} /path/to/${tool}.`,
        { cause: error },
      );
    throw error;
  }
  const major = /\(PostgreSQL\)\s+(\d+)/.exec(stdout)?.[1];
  if (!major) throw new Error(`Could not read ${tool}'s version from "${stdout.trim()}".`);
  return Number(major);
}

/** Runs the tool; resolves when it exits 0, otherwise rejects with its own messages. */
export function runTool(
  tool: PgTool,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  io: { stdin?: Readable; onStdout?: (stdout: Readable) => Promise<void> },
): Promise<void> {
  const child = spawn(command, args, { env, stdio: [io.stdin ? 'pipe' : 'ignore', io.onStdout ? 'pipe' : 'inherit', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  if (io.stdin) {
    // pg_restore stopping early (--exit-on-error) closes its stdin; that error is reported by its exit code.
    child.stdin!.on('error', () => {});
    io.stdin.pipe(child.stdin!);
  }
  const consumed = io.onStdout ? io.onStdout(child.stdout!) : Promise.resolve();
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  return Promise.all([consumed, exited]).then(
    ([, code]) => {
      if (code !== 0) throw new Error(`${tool} failed (exit code ${code}):\n${stderr.trim()}`);
    },
    (error: unknown) => {
      child.kill();
      throw error;
    },
  );
}
