import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs Debian's nginx with the documented configuration (deploy/nginx/dateline.conf) in front of
 * a Dateline on `upstreamPort`, in a temporary folder, for the proxy test and `npm run bench --
 * --only proxy`. Only the upstream, the port and the file paths are changed: what is tested is
 * the file an operator installs.
 */
export const NGINX = process.env.NGINX_BINARY ?? '/usr/sbin/nginx';
export const nginxAvailable = () => existsSync(NGINX);

const CONFIG = fileURLToPath(new URL('../../deploy/nginx/dateline.conf', import.meta.url));

export interface NginxProxy {
  url: string;
  stop: () => Promise<void>;
}

export async function startNginxProxy({
  upstreamPort,
  workers = 1,
}: {
  upstreamPort: number;
  workers?: number | 'auto';
}): Promise<NginxProxy> {
  const folder = await mkdtemp(path.join(tmpdir(), 'dateline-nginx-'));
  const cache = path.join(folder, 'cache');
  await mkdir(cache);
  // nginx started as root runs its workers as nobody, who must be able to write the cache.
  await chmod(folder, 0o777);
  await chmod(cache, 0o777);
  const port = await freePort();
  const site = (await readFile(CONFIG, 'utf8'))
    .replace('/var/cache/nginx/dateline', cache)
    .replace('server 127.0.0.1:3000;', `server 127.0.0.1:${upstreamPort};`)
    .replace('listen 8080;', `listen 127.0.0.1:${port};`);
  if (site.includes('3000') || site.includes('8080') || site.includes('/var/cache'))
    throw new Error('deploy/nginx/dateline.conf changed: update scripts/nginx/nginx-proxy.ts');
  await writeFile(path.join(folder, 'dateline.conf'), site);
  await writeFile(
    path.join(folder, 'nginx.conf'),
    `worker_processes ${workers};
pid ${path.join(folder, 'nginx.pid')};
error_log ${path.join(folder, 'error.log')} warn;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${path.join(folder, 'body')};
  proxy_temp_path ${path.join(folder, 'proxy')};
  fastcgi_temp_path ${path.join(folder, 'fastcgi')};
  uwsgi_temp_path ${path.join(folder, 'uwsgi')};
  scgi_temp_path ${path.join(folder, 'scgi')};
  include ${path.join(folder, 'dateline.conf')};
}
`,
  );
  const child = spawn(NGINX, ['-p', folder, '-c', path.join(folder, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitUntilAnswering(url, child, () => errors);
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGQUIT');
        await exited;
      }
      await rm(folder, { recursive: true, force: true });
    },
  };
}

async function waitUntilAnswering(url: string, child: ReturnType<typeof spawn>, errors: () => string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${errors()}`);
    try {
      await fetch(`${url}/healthz`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`nginx did not answer on ${url}: ${errors()}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
