import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimitStore, type RateLimitStore } from '../src/http/rate-limit-store.ts';
import { createLogger } from '../src/logger.ts';
import { incidentBody } from './support/factories.ts';
import { request, startTestApp, useTestApp, type TestApp } from './support/test-app.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('rate limits shared through Redis', () => {
  let stores: RateLimitStore[];
  let first: TestApp;
  let second: TestApp;
  beforeAll(async () => {
    // Two processes = two Redis clients on one prefix; a prefix of its own so parallel runs never share counters.
    const prefix = `dateline-test:${randomUUID()}:`;
    stores = [
      await createRateLimitStore(REDIS_URL, createLogger('silent'), prefix),
      await createRateLimitStore(REDIS_URL, createLogger('silent'), prefix),
    ];
    const limits = { RATE_LIMIT_ANONYMOUS: '3', RATE_LIMIT_AUTHENTICATED: '1000' };
    first = await startTestApp(limits, { rateLimitStore: stores[0]!.store! });
    second = await startTestApp(limits, { rateLimitStore: stores[1]!.store! });
  });
  afterAll(async () => {
    await first.close();
    await second.close();
    for (const store of stores) await store.close();
  });

  it('counts an anonymous caller across two API processes', async () => {
    const statuses = [
      (await request(first, 'GET', '/v1/incidents')).status,
      (await request(second, 'GET', '/v1/incidents')).status,
      (await request(first, 'GET', '/v1/incidents')).status,
      (await request(second, 'GET', '/v1/incidents')).status,
    ];
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe('public reads from browsers and caches', () => {
  const t = useTestApp();
  let publishedId: string;
  beforeAll(async () => {
    const created = await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body: incidentBody() });
    publishedId = created.body.id;
    await request(t.app, 'POST', `/v1/incidents/${publishedId}/publish`, { key: t.actors.reviewer });
  });

  it('lets any site read with CORS, but not write', async () => {
    const read = await request(t.app, 'GET', '/v1/incidents', { headers: { origin: 'https://newsroom.example' } });
    expect(read.headers.get('access-control-allow-origin')).toBe('*');
    expect(read.headers.get('access-control-expose-headers')).toMatch(/ETag/);

    const preflight = await request(t.app, 'OPTIONS', '/v1/incidents', {
      headers: { origin: 'https://newsroom.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET,HEAD');

    const write = await request(t.app, 'POST', '/v1/incidents', {
      key: t.actors.editor,
      body: incidentBody(),
      headers: { origin: 'https://evil.example' },
    });
    expect(write.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('marks public responses cacheable and keyed ones private', async () => {
    const anonymous = await request(t.app, 'GET', `/v1/incidents/${publishedId}`);
    expect(anonymous.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=5, stale-while-revalidate=30');
    expect(anonymous.headers.get('vary')).toMatch(/Authorization/);
    const keyed = await request(t.app, 'GET', `/v1/incidents/${publishedId}`, { key: t.actors.editor });
    expect(keyed.headers.get('cache-control')).toBe('private, no-cache');
    const list = await request(t.app, 'GET', '/v1/incidents');
    expect(list.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=5, stale-while-revalidate=30');
  });
});
