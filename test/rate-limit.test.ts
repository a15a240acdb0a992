import { describe, expect, it } from 'vitest';
import { request, useTestApp } from './support/test-app.ts';

const t = useTestApp({ RATE_LIMIT_ANONYMOUS: '3', RATE_LIMIT_AUTHENTICATED: '5' });

describe('rate limits', () => {
  it('tells every caller its budget in RateLimit headers', async () => {
    const response = await request(t.app, 'GET', '/v1/incidents', { key: t.actors.researcher });
    expect(response.headers.get('ratelimit-policy')).toMatch(/q=5/);
    expect(response.headers.get('ratelimit')).toMatch(/r=4/);
  });

  it('answers anonymous callers over budget with 429 problem+json, keyed callers keep their own budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(t.app, 'GET', '/v1/incidents')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);

    const limited = await request(t.app, 'GET', '/v1/incidents');
    expect(limited.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(limited.body).toMatchObject({ type: '/problems/rate-limited', status: 429 });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    expect((await request(t.app, 'GET', '/v1/incidents', { key: t.actors.editor })).status).toBe(200);
  });

  it('does not rate-limit the health probes', async () => {
    for (let i = 0; i < 5; i++) expect((await request(t.app, 'GET', '/healthz')).status).toBe(200);
  });
});
