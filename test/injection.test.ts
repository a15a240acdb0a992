import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { incidentBody } from './support/factories.ts';
import { databaseFingerprint, expectCleanAnswer } from './support/fuzz-checks.ts';
import { request, useTestApp, type ApiResponse, type RequestOptions, type TestApp } from './support/test-app.ts';

/**
 * Hostile input: SQL metacharacters, NUL bytes, huge strings, deep JSON, Unicode tricks,
 * malformed and oversized bodies, wrong content types, and clients that trickle their request.
 * Each gets a clean answer (2xx, or 4xx problem+json), writes nothing when refused, and leaves
 * the server serving: a normal request answers right after every test.
 */
const t = useTestApp();

afterEach(async () => {
  const normal = await request(t.app, 'GET', '/v1/incidents?limit=1', { key: t.actors.editor });
  expect(normal.status, normal.text).toBe(200);
});

/** Sends a request that must be refused: clean 4xx of the given status, database unchanged. */
async function expectRefused(method: string, path: string, options: RequestOptions, status: number, target = t.app): Promise<ApiResponse> {
  const before = await databaseFingerprint(target.db);
  const response = await request(target, method, path, options);
  expectCleanAnswer(response, `${method} ${path}`);
  expect(response.status, response.text).toBe(status);
  expect(await databaseFingerprint(target.db)).toEqual(before);
  return response;
}

const pointers = (response: ApiResponse) =>
  response.body.errors.map((error: { pointer?: string; parameter?: string }) => error.pointer ?? error.parameter);

describe('SQL metacharacters are data, not SQL', () => {
  it.each(["'; drop table incidents; --", "' or '1'='1", '"; select pg_sleep(10); --', '%_\\%', '$1 $2 ::text', "E'\\x27' || chr(39)"])(
    '%s is stored and found exactly',
    async (payload) => {
      const tag = `${payload} ${crypto.randomUUID().slice(0, 8)}`;
      const body = incidentBody({
        title: tag,
        description: payload,
        location: { country: 'TR', region: tag, city: tag },
        victims: [{ name: tag, outlet: payload }],
        perpetratorClaims: [{ actorName: tag, actorType: 'unknown', attribution: 'alleged_by_victim' }],
      });
      const created = await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body });
      expect(created.status, created.text).toBe(201);
      const read = await request(t.app, 'GET', `/v1/incidents/${created.body.id}`, { key: t.actors.editor });
      expect(read.body).toMatchObject({ title: tag, description: payload, location: { region: tag, city: tag } });
      expect(read.body.victims[0]).toMatchObject({ name: tag, outlet: payload });

      for (const parameter of ['region', 'city', 'actorName']) {
        const search = new URLSearchParams({ [parameter]: tag });
        const found = await request(t.app, 'GET', `/v1/incidents?${search}`, { key: t.actors.editor });
        expectCleanAnswer(found);
        expect(
          found.body.data.map((incident: { id: string }) => incident.id),
          `${parameter}=${tag}`,
        ).toEqual([created.body.id]);
      }
      const searched = await request(t.app, 'GET', `/v1/incidents?${new URLSearchParams({ q: payload })}`, { key: t.actors.editor });
      expect([200, 400]).toContain(searched.status); // 400 when nothing but punctuation is left to search for
      expectCleanAnswer(searched);
    },
  );

  it('a LIKE wildcard in actorName matches only itself', async () => {
    const response = await request(t.app, 'GET', '/v1/incidents?actorName=%25%25&limit=200', { key: t.actors.editor });
    expect(response.status).toBe(200);
    for (const incident of response.body.data) {
      expect(incident.perpetratorClaims.some((claim: { actorName: string }) => claim.actorName.includes('%%'))).toBe(true);
    }
  });
});

describe('NUL bytes and unpaired surrogates', () => {
  it.each([
    ['title', { title: 'Reporter\u0000attacked' }, '/title'],
    ['a victim name', { victims: [{ name: 'Nul\u0000Name' }] }, '/victims/0/name'],
    ['a lone high surrogate', { title: 'Broken \ud800 title' }, '/title'],
    ['a lone low surrogate in an alias', { victims: [{ name: 'A', aliases: ['\udc00'] }] }, '/victims/0/aliases/0'],
    ['an unknown key holding NUL', { 'bad\u0000key': 1 }, '/bad\u0000key'],
  ])('in %s: 400 naming the field', async (_name, overrides, pointer) => {
    const response = await expectRefused('POST', '/v1/incidents', { key: t.actors.editor, body: incidentBody(overrides) }, 400);
    expect(pointers(response)).toContain(pointer);
  });

  it('sent as a raw "\\u0000" JSON escape: 400', async () => {
    const rawBody = JSON.stringify(incidentBody()).replace('"title":"', '"title":"\\u0000');
    const response = await expectRefused('POST', '/v1/incidents', { key: t.actors.editor, rawBody }, 400);
    expect(pointers(response)).toContain('/title');
  });

  it.each(['/v1/organisations', '/v1/keys'])('in an admin body (%s): 400', async (path) => {
    const body =
      path === '/v1/keys' ? { organisationId: t.actors.ownOrganisation.id, name: 'key\u0000', role: 'editor' } : { name: 'org\u0000' };
    const response = await expectRefused('POST', path, { key: t.actors.admin, body }, 400);
    expect(pointers(response)).toContain('/name');
  });

  it.each(['q', 'region', 'city', 'actorName'])('in the %s parameter: 400 naming it', async (parameter) => {
    for (const path of ['/v1/incidents', '/v1/stats', '/v1/incidents/export']) {
      const response = await expectRefused('GET', `${path}?${parameter}=ab%00cd`, { key: t.actors.editor }, 400);
      expect(pointers(response)).toContain(parameter);
    }
  });

  it('in a path parameter: 400', async () => {
    await expectRefused('GET', '/v1/incidents/%00', {}, 400);
  });

  it.each([
    ['a cell', 'year,fullName,country,typeOfDeath\n2018,Nul\u0000Name,Syria,Murder\n'],
    ['a header', 'year,fullName,country,typeOfDeath,extra\u0000column\n2018,Some Name,Syria,Murder,x\n'],
  ])('in %s of an imported CSV: a clean refusal, nothing written', async (_name, csv) => {
    const before = await databaseFingerprint(t.app.db);
    const response = await request(t.app, 'POST', '/v1/imports?format=cpj', {
      key: t.actors.editor,
      rawBody: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expectCleanAnswer(response);
    expect(response.status, response.text).toBeGreaterThanOrEqual(400);
    expect(await databaseFingerprint(t.app.db)).toEqual(before);
  });
});

describe('Unicode tricks in names are kept exactly', () => {
  it.each([
    ['a right-to-left override', 'Samer \u202eHaddad\u202c'],
    ['zero-width characters', 'Sa\u200bmer\u200d Ha\ufeffddad'],
    ['a zero-width non-joiner in Persian', 'می\u200cخواهم'],
    ['combining marks', 'Jose\u0301 Zalewski\u0328'],
    ['stacked combining marks', `Z${'\u0300\u0301\u0302\u0303'.repeat(20)}`],
    ['astral-plane characters', '𝕁𝕠𝕦𝕣𝕟𝕒𝕝𝕚𝕤𝕥 🗞️'],
  ])('%s', async (_name, name) => {
    const body = incidentBody({ title: `Attack on ${name}`, victims: [{ name, aliases: [name] }] });
    const created = await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body });
    expect(created.status, created.text).toBe(201);
    const read = await request(t.app, 'GET', `/v1/incidents/${created.body.id}`, { key: t.actors.editor });
    expect(read.body.title).toBe(`Attack on ${name}`);
    expect(read.body.victims[0]).toMatchObject({ name, aliases: [name] });
    const searched = await request(t.app, 'GET', `/v1/incidents?${new URLSearchParams({ q: name })}`, { key: t.actors.editor });
    expectCleanAnswer(searched);
  });
});

describe('huge strings and deep JSON', () => {
  it('a title over 500 characters: 400', async () => {
    const response = await expectRefused(
      'POST',
      '/v1/incidents',
      { key: t.actors.editor, body: incidentBody({ title: 'x'.repeat(501) }) },
      400,
    );
    expect(pointers(response)).toEqual(['/title']);
  });

  it('a body over BODY_LIMIT: 413', async () => {
    const body = incidentBody({ description: 'x'.repeat(1_100_000) });
    const response = await expectRefused('POST', '/v1/incidents', { key: t.actors.editor, body }, 413);
    expect(response.body.type).toBe('/problems/payload-too-large');
  });

  it('a 10,000-character search: 400', async () => {
    const response = await expectRefused('GET', `/v1/incidents?q=${'a'.repeat(10_000)}`, {}, 400);
    expect(pointers(response)).toEqual(['q']);
  });

  it('a 30 KB URL or header: 431 problem+json', async () => {
    await expectRefused('GET', `/v1/incidents?q=${'a'.repeat(30_000)}`, {}, 431);
    await expectRefused('GET', '/v1/incidents', { headers: { 'x-padding': 'a'.repeat(30_000) } }, 431);
  });

  it.each([
    ['arrays nested 100,000 deep', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
    ['objects nested 50,000 deep', `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`],
    [
      'a deep array as the victims',
      JSON.stringify(incidentBody()).replace('"victims":[', `"victims":[${'['.repeat(50_000)}${']'.repeat(50_000)},`),
    ],
  ])('%s: 400', async (_name, rawBody) => {
    await expectRefused('POST', '/v1/incidents', { key: t.actors.editor, rawBody }, 400);
  });

  it('10,000 unknown fields: 400, each named', async () => {
    const body = Object.fromEntries(Array.from({ length: 10_000 }, (_, index) => [`field${index}`, index]));
    const response = await expectRefused('POST', '/v1/incidents', { key: t.actors.editor, body: { ...incidentBody(), ...body } }, 400);
    expect(response.body.errors.length).toBeGreaterThanOrEqual(10_000);
  });
});

describe('malformed bodies and wrong content types', () => {
  const valid = JSON.stringify(incidentBody());
  it.each<[string, RequestOptions & { rawBody: string }, number, string]>([
    ['truncated JSON', { rawBody: valid.slice(0, 40) }, 400, '/problems/malformed-json'],
    [
      'a charset other than UTF-8',
      { rawBody: valid, headers: { 'content-type': 'application/json; charset=latin1' } },
      415,
      '/problems/unsupported-encoding',
    ],
    ['an unknown Content-Encoding', { rawBody: valid, headers: { 'content-encoding': 'zstd-x' } }, 415, '/problems/unsupported-encoding'],
    ['gzip that is not gzip', { rawBody: valid, headers: { 'content-encoding': 'gzip' } }, 400, '/problems/unreadable-body'],
    ['text/plain', { rawBody: valid, headers: { 'content-type': 'text/plain' } }, 415, '/problems/unsupported-media-type'],
    [
      'a form',
      { rawBody: 'title=x&date=2015', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      415,
      '/problems/unsupported-media-type',
    ],
    [
      'multipart',
      {
        rawBody: '--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--b--',
        headers: { 'content-type': 'multipart/form-data; boundary=b' },
      },
      415,
      '/problems/unsupported-media-type',
    ],
    [
      'XML',
      { rawBody: '<incident><title>x</title></incident>', headers: { 'content-type': 'application/xml' } },
      415,
      '/problems/unsupported-media-type',
    ],
  ])('%s: clean 4xx, nothing written', async (_name, options, status, type) => {
    const response = await expectRefused('POST', '/v1/incidents', { key: t.actors.editor, ...options }, status);
    expect(response.body.type).toBe(type);
  });

  it('an import whose JSON body is valid JSON of the wrong shape: 400 naming the body', async () => {
    const response = await expectRefused('POST', '/v1/imports?format=mapped', { key: t.actors.editor, rawBody: '3' }, 400);
    expect(response.body).toMatchObject({ type: '/problems/validation-failed', errors: [expect.objectContaining({ pointer: '' })] });
  });

  it('an import in a type it does not read: 415', async () => {
    const response = await expectRefused(
      'POST',
      '/v1/imports?format=cpj',
      { key: t.actors.editor, rawBody: '<csv/>', headers: { 'content-type': 'application/xml' } },
      415,
    );
    expect(response.body.type).toBe('/problems/unsupported-media-type');
  });
});

// ---------------------------------------------------------------- raw HTTP

/**
 * Writes `head` to a raw socket, then `trickle` one piece every `intervalMs` (at most
 * `maxPieces`), and resolves with everything the server sent once it closes the connection.
 */
function rawExchange(target: TestApp, head: string, trickle?: { piece: string; intervalMs: number; maxPieces: number }): Promise<string> {
  const { port } = new URL(target.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const received: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearInterval(timer);
      resolve(Buffer.concat(received).toString('utf8'));
    });
    socket.write(head);
    if (!trickle) return;
    let sent = 0;
    timer = setInterval(() => {
      if (sent++ >= trickle.maxPieces || socket.destroyed) return clearInterval(timer);
      socket.write(trickle.piece);
    }, trickle.intervalMs);
  });
}

const problemIn = (raw: string) => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));

describe('requests Node cannot parse', () => {
  it.each([
    ['a NUL byte in a header', 'GET /v1/incidents HTTP/1.1\r\nHost: x\r\nX-Test: a\u0000b\r\n\r\n'],
    ['a request line that is not HTTP', 'HELLO\r\n\r\n'],
    [
      'a malformed chunked body',
      'POST /v1/incidents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
    ],
  ])('%s: 400 problem+json, connection closed', async (_name, raw) => {
    const answer = await rawExchange(t.app, raw);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/content-type: application\/problem\+json/i);
    expect(problemIn(answer)).toMatchObject({ type: '/problems/malformed-request', status: 400 });
  });
});

describe('slow clients', () => {
  const slow = useTestApp({ HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2000' });

  it('headers trickled a line at a time: 408 and closed, while others are served', async () => {
    const trickled = Array.from({ length: 20 }, () =>
      rawExchange(slow.app, 'GET /v1/incidents HTTP/1.1\r\nHost: x\r\n', { piece: 'X-Slow: 1\r\n', intervalMs: 200, maxPieces: 100 }),
    );
    const normal = await request(slow.app, 'GET', '/v1/incidents?limit=1', { key: slow.actors.editor });
    expect(normal.status).toBe(200);
    for (const answer of await Promise.all(trickled)) {
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(problemIn(answer)).toMatchObject({ type: '/problems/request-timeout', status: 408 });
    }
  });

  it('a body trickled a byte at a time: 408, closed, nothing written', async () => {
    const before = await databaseFingerprint(slow.app.db);
    const body = JSON.stringify(incidentBody());
    const head = `POST /v1/incidents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${slow.actors.editor}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const trickled = rawExchange(slow.app, head, { piece: '{', intervalMs: 100, maxPieces: 200 });
    const normal = await request(slow.app, 'GET', '/v1/incidents?limit=1', { key: slow.actors.editor });
    expect(normal.status).toBe(200);
    const answer = await trickled;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(await databaseFingerprint(slow.app.db)).toEqual(before);
    const after = await request(slow.app, 'POST', '/v1/incidents', { key: slow.actors.editor, body: incidentBody() });
    expect(after.status).toBe(201);
  });
});
