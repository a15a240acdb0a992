import { describe, expect, it } from 'vitest';
import { request, useTestApp } from './support/test-app.ts';

/** GET /v1/imports: an organisation's imports, newest first, keyset-paginated, summaries only. */
const t = useTestApp();

const header = 'title,date_precision,date_start,date_end,country,attack_types,victim_names';
const file = (tag: string, rows: number) =>
  [
    header,
    ...Array.from(
      { length: rows },
      (_, index) =>
        `Reporter ${tag} ${index} threatened,day,2020-01-0${index + 1},2020-01-0${index + 1},GR,threat_harassment,Person ${tag} ${index}`,
    ),
  ].join('\n');

async function upload(key: string, csv: string, fileName: string) {
  const response = await request(t.app, 'POST', `/v1/imports?format=native&fileName=${fileName}`, {
    key,
    rawBody: csv,
    headers: { 'content-type': 'text/csv' },
  });
  expect(response.status, response.text).toBe(201);
  return response.body;
}

const list = (key: string | undefined, query = '') => request(t.app, 'GET', `/v1/imports${query}`, { key });

describe('GET /v1/imports', () => {
  it("lists the organisation's imports newest first, a page at a time, with summary fields only", async () => {
    const first = await upload(t.actors.editor, file('a', 1), 'first.csv');
    const second = await upload(t.actors.editor, file('b', 2), 'second.csv');
    const third = await upload(t.actors.editor, file('c', 3), 'third.csv');
    await upload(t.actors.otherEditor, file('d', 1), 'elsewhere.csv');

    const page = await list(t.actors.editor, '?limit=2');
    expect(page.status, page.text).toBe(200);
    expect(page.headers.get('cache-control')).toBe('private, no-cache');
    expect(page.body.data).toEqual([
      {
        id: third.id,
        format: 'native',
        fileName: 'third.csv',
        counts: { rows: 3, created: 3, rejected: 0 },
        createdAt: third.createdAt,
        createdBy: third.createdBy,
      },
      {
        id: second.id,
        format: 'native',
        fileName: 'second.csv',
        counts: { rows: 2, created: 2, rejected: 0 },
        createdAt: second.createdAt,
        createdBy: second.createdBy,
      },
    ]);
    const next = await list(t.actors.editor, `?limit=2&cursor=${page.body.nextCursor}`);
    expect(next.body).toEqual({
      data: [
        {
          id: first.id,
          format: 'native',
          fileName: 'first.csv',
          counts: { rows: 1, created: 1, rejected: 0 },
          createdAt: first.createdAt,
          createdBy: first.createdBy,
        },
      ],
      nextCursor: null,
    });

    // Reviewers of the organisation see the same list; another organisation sees only its own.
    expect((await list(t.actors.reviewer)).body.data.map((row: { id: string }) => row.id)).toEqual([third.id, second.id, first.id]);
    expect((await list(t.actors.otherEditor)).body.data.map((row: { fileName: string }) => row.fileName)).toEqual(['elsewhere.csv']);
    expect((await list(t.actors.otherReviewer)).body.data).toHaveLength(1);
  });

  it('is for editors and reviewers only, and checks its parameters', async () => {
    expect((await list(undefined)).status).toBe(401);
    expect((await list(t.actors.researcher)).status).toBe(403);
    expect((await list(t.actors.admin)).status).toBe(403);
    for (const query of [
      '?limit=0',
      '?limit=201',
      '?cursor=not-a-cursor',
      `?cursor=${Buffer.from('["yesterday","x"]').toString('base64url')}`,
      '?sort=name',
    ]) {
      const response = await list(t.actors.editor, query);
      expect(response.status, query).toBe(400);
      expect(response.body.type).toBe('/problems/validation-failed');
    }
  });

  it('is described in the OpenAPI document', async () => {
    const document = (await request(t.app, 'GET', '/openapi.json')).body;
    const operation = document.paths['/v1/imports'].get;
    expect(operation.parameters.map((parameter: { name: string }) => parameter.name).sort()).toEqual(['cursor', 'limit']);
    expect(operation.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ImportList' });
    expect(Object.keys(document.components.schemas.ImportSummary.properties).sort()).toEqual([
      'counts',
      'createdAt',
      'createdBy',
      'fileName',
      'format',
      'id',
    ]);
  });
});
