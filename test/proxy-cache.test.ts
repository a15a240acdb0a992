import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxAvailable, startNginxProxy, type NginxProxy } from '../scripts/nginx/nginx-proxy.ts';
import { incidentBody, serviceWriter } from './support/factories.ts';
import { useTestApp } from './support/test-app.ts';

/**
 * Dateline behind the documented nginx configuration (deploy/nginx/dateline.conf), with Debian's
 * nginx: public answers are served from the cache and follow a write once the cache has
 * revalidated; an answer to a key is never served from it nor stored in it. .ci/run installs
 * nginx and sets REQUIRE_NGINX=1, so there the test cannot skip.
 */
const required = process.env.REQUIRE_NGINX === '1';
const available = nginxAvailable();
if (required && !available) throw new Error('REQUIRE_NGINX=1 but nginx is not installed (apt-get install nginx)');

describe.runIf(available)('behind the nginx cache', () => {
  const t = useTestApp({ PUBLIC_CACHE_SECONDS: '1', PUBLIC_STALE_SECONDS: '1' });
  let proxy: NginxProxy;
  const get = async (path: string, key?: string) => {
    const response = await fetch(`${proxy.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    return { status: response.status, cache: response.headers.get('x-cache-status'), body: await response.text() };
  };

  beforeAll(async () => {
    const writer = await serviceWriter(t.app.db, t.actors.ownOrganisation.id);
    await writer.create(incidentBody({ title: 'A published attack' }), { publish: true });
    await writer.create(incidentBody({ title: 'A draft nobody outside may read' }));
    proxy = await startNginxProxy({ upstreamPort: Number(new URL(t.app.url).port) });
  });
  afterAll(async () => proxy?.stop());

  it('serves public answers from the cache', async () => {
    for (const path of ['/v1/incidents', '/v1/stats?groupBy=country', '/explore']) {
      const first = await get(path);
      const second = await get(path);
      expect(first.status, path).toBe(200);
      expect(second.cache, path).toBe('HIT');
      expect(second.body, path).toBe(first.body);
    }
  });

  it('never answers a key from the cache, nor keeps what a key was told', async () => {
    await get('/v1/incidents?limit=7'); // cached for anonymous readers
    const keyed = await get('/v1/incidents?limit=7', t.actors.editor);
    expect(keyed.cache).toBe('BYPASS');
    expect(keyed.body).toContain('A draft nobody outside may read');

    const keyedFirst = await get('/v1/incidents?limit=9', t.actors.editor);
    expect(keyedFirst.body).toContain('A draft nobody outside may read');
    const anonymous = await get('/v1/incidents?limit=9');
    expect(anonymous.cache).not.toBe('HIT');
    expect(anonymous.body).not.toContain('A draft nobody outside may read');
    expect((await get('/v1/incidents?limit=9')).body).not.toContain('A draft nobody outside may read');
  });

  it('follows a write once the cache has revalidated, and never goes back', async () => {
    const path = '/v1/incidents?limit=100';
    expect((await get(path)).body).not.toContain('Published after the cache filled');
    const writer = await serviceWriter(t.app.db, t.actors.ownOrganisation.id);
    await writer.create(incidentBody({ title: 'Published after the cache filled' }), { publish: true });
    const started = Date.now();
    let seen = false;
    let staleAfterSeen = 0;
    // s-maxage=1 and stale-while-revalidate=1: within about two seconds every answer is new.
    while (Date.now() - started < 5_000) {
      const { body } = await get(path);
      const fresh = body.includes('Published after the cache filled');
      if (seen && !fresh) staleAfterSeen++;
      seen ||= fresh;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(seen).toBe(true);
    expect(staleAfterSeen).toBe(0);
  });
});
