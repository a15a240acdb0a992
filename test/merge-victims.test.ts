import { describe, expect, it } from 'vitest';
import { incidentBody } from './support/factories.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * A merge counts a person once: victims of the two incidents who are the same person are
 * paired and kept as one (issue 13). Each test uses its own year, so its incidents and
 * statistics are its own.
 */
const t = useTestApp();

type Who = 'editor' | 'reviewer';
const send = (who: Who, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  request(t.app, method, path, { key: t.actors[who], body, headers });

const victim = (name: string | null, extra: Record<string, unknown> = {}) => ({ name, role: 'journalist', outcome: 'killed', ...extra });

async function create(year: number, victims: unknown[]) {
  const response = await send(
    'editor',
    'POST',
    '/v1/incidents',
    incidentBody({
      victims,
      perpetratorClaims: [],
      sources: [],
      attackTypes: ['killing'],
      date: { precision: 'month', value: `${year}-10` },
      location: { country: 'TR', city: 'Istanbul' },
    }),
  );
  expect(response.status, response.text).toBe(201);
  return response.body;
}

/** Survivor and loser about the same killing, in `year`. */
async function incidents(year: number, survivorVictims: unknown[], loserVictims: unknown[]) {
  return { survivor: await create(year, survivorVictims), loser: await create(year, loserVictims) };
}

const merge = (loserId: string, body: Record<string, unknown>, query = '') =>
  send('reviewer', 'POST', `/v1/incidents/${loserId}/merge${query}`, body);

/** What GET /v1/stats says about the year, as the owning organisation sees it (drafts included). */
async function statsOf(year: number) {
  const response = await send('reviewer', 'GET', `/v1/stats?country=TR&dateFrom=${year}&dateTo=${year}`);
  expect(response.status, response.text).toBe(200);
  return response.body.totals;
}

/** Everything a merge could change: both incidents as stored, their audit trails. */
async function snapshot(...ids: string[]) {
  const reads = await Promise.all(ids.map((id) => send('editor', 'GET', `/v1/incidents/${id}`)));
  const audit = await t.app.db
    .selectFrom('audit_log')
    .select(['id', 'entity_id', 'action'])
    .where('entity_id', 'in', ids)
    .orderBy('id')
    .execute();
  return { incidents: reads.map((read) => [read.status, read.body]), audit };
}

describe('a merge pairs victims who are the same person', () => {
  it('keeps one victim per spelling variant, fills what the survivor lacks, and statistics count the killing once', async () => {
    const { survivor, loser } = await incidents(
      2015,
      [victim('Naji Jarf', { gender: 'male' }), victim('Hala Barakat', { gender: 'female' })],
      [
        victim('Halla Barakat', { nameOriginal: 'حلا بركات', gender: 'female', nationality: 'SY', outlet: 'Orient News' }),
        victim('Naji Jerf', { gender: 'male', nationality: 'SY', outlet: 'Hentah', employment: 'freelance', protected: true }),
      ],
    );
    expect(await statsOf(2015)).toEqual({ incidents: 2, victims: 4, victimsKilled: 4 });

    const response = await merge(loser.id, { into: survivor.id });
    expect(response.status, response.text).toBe(200);
    const [jarf, barakat] = survivor.victims;
    expect(response.body.victims).toEqual([
      // The survivor's values stay (its name, its gender); the other spelling becomes an alias; a protected copy keeps it protected.
      { ...jarf, aliases: ['Naji Jerf'], nationality: 'SY', outlet: 'Hentah', employment: 'freelance', protected: true },
      { ...barakat, aliases: ['Halla Barakat'], nameOriginal: 'حلا بركات', nationality: 'SY', outlet: 'Orient News' },
    ]);
    expect(response.body.victimPairs).toEqual([
      {
        kept: barakat.id,
        merged: loser.victims[0].id,
        names: { kept: 'Hala Barakat', merged: 'Halla Barakat' },
        match: 'same_name',
        similarity: 1,
        reason: 'same name once spelling and word order are set aside: "Hala Barakat" and "Halla Barakat"',
      },
      {
        // The current normaliser finds these similar; a better one may call them the same name.
        kept: jarf.id,
        merged: loser.victims[1].id,
        names: { kept: 'Naji Jarf', merged: 'Naji Jerf' },
        match: expect.stringMatching(/^(similar_name|same_name)$/),
        similarity: expect.any(Number),
        reason: expect.stringContaining('"Naji Jarf" and "Naji Jerf"'),
      },
    ]);
    expect(await statsOf(2015)).toEqual({ incidents: 1, victims: 2, victimsKilled: 2 });
    const read = await send('editor', 'GET', `/v1/incidents/${survivor.id}`);
    expect(read.body.victims).toEqual(response.body.victims);
  });

  it('keeps different people apart: a shared first name, a shared family name, different recorded genders', async () => {
    const { survivor, loser } = await incidents(
      2016,
      [victim('Mohammed Ali'), victim('Orouba Barakat'), victim('Ali Hassan', { gender: 'male' })],
      [victim('Mohammed Ahmed'), victim('Halla Barakat'), victim('Alia Hassan', { gender: 'female' })],
    );
    const response = await merge(loser.id, { into: survivor.id });
    expect(response.status, response.text).toBe(200);
    expect(response.body.victimPairs).toEqual([]);
    expect(response.body.victims.map((v: any) => v.name)).toEqual([
      'Mohammed Ali',
      'Orouba Barakat',
      'Ali Hassan',
      'Mohammed Ahmed',
      'Halla Barakat',
      'Alia Hassan',
    ]);
    expect(response.body.victims.every((v: any) => v.aliases.length === 0)).toBe(true);
    expect(await statsOf(2016)).toEqual({ incidents: 1, victims: 6, victimsKilled: 6 });
  });

  it('folds a person the merged record lists twice into one, and pairs unnamed victims in order', async () => {
    const { survivor, loser } = await incidents(
      2017,
      [victim('Hala Barakat'), victim(null, { outcome: 'injured' })],
      [
        victim('Halla Barakat'),
        victim('Barakat Hala', { aliases: ['H. Barakat'] }),
        victim(null, { outcome: 'injured', gender: 'male' }),
        victim(null),
      ],
    );
    const response = await merge(loser.id, { into: survivor.id });
    expect(response.status, response.text).toBe(200);
    expect(response.body.victimPairs.map((pair: any) => [pair.kept, pair.merged, pair.match])).toEqual([
      [survivor.victims[0].id, loser.victims[0].id, 'same_name'],
      [survivor.victims[0].id, loser.victims[1].id, 'same_name'],
      [survivor.victims[1].id, loser.victims[2].id, 'unnamed'],
    ]);
    expect(response.body.victims).toEqual([
      { ...survivor.victims[0], aliases: ['Halla Barakat', 'Barakat Hala', 'H. Barakat'] },
      { ...survivor.victims[1], gender: 'male' },
      { ...loser.victims[3], id: expect.any(String) },
    ]);
    expect(await statsOf(2017)).toEqual({ incidents: 1, victims: 3, victimsKilled: 2 });
  });
});

describe('the reviewer decides', () => {
  it('previews the pairing with ?dryRun=true and nothing changes', async () => {
    const { survivor, loser } = await incidents(2018, [victim('Naji Jarf'), victim(null)], [victim('Naji Jerf'), victim(null)]);
    const before = await snapshot(survivor.id, loser.id);
    const preview = await merge(loser.id, { into: survivor.id }, '?dryRun=true');
    expect(preview.status, preview.text).toBe(200);
    expect(preview.headers.get('etag')).not.toBe('"2"'); // no version ETag: version 2 was never committed
    expect(preview.headers.get('cache-control')).toBe('no-store');
    expect(preview.body).toMatchObject({ id: survivor.id, version: 2, dryRun: true });
    expect(preview.body.victims).toHaveLength(2);
    expect(preview.body.victimPairs.map((pair: any) => [pair.kept, pair.merged])).toEqual([
      [survivor.victims[0].id, loser.victims[0].id],
      [survivor.victims[1].id, loser.victims[1].id],
    ]);
    expect(await snapshot(survivor.id, loser.id)).toEqual(before);
    expect(await statsOf(2018)).toEqual({ incidents: 2, victims: 4, victimsKilled: 4 });

    // The merge itself does what the preview showed.
    const merged = await merge(loser.id, { into: survivor.id });
    expect(merged.status, merged.text).toBe(200);
    const { dryRun: _dryRun, ...previewed } = preview.body;
    expect(merged.body).toEqual({ ...previewed, updatedAt: expect.any(String) });
    expect(merged.body).not.toHaveProperty('dryRun');
  });

  it('pairs none with victimPairs: [], or exactly the pairs sent', async () => {
    const separate = await incidents(2019, [victim('Naji Jarf'), victim(null)], [victim('Naji Jerf'), victim(null)]);
    const none = await merge(separate.loser.id, { into: separate.survivor.id, victimPairs: [] });
    expect(none.status, none.text).toBe(200);
    expect(none.body.victimPairs).toEqual([]);
    expect(none.body.victims.map((v: any) => v.name)).toEqual(['Naji Jarf', null, 'Naji Jerf', null]);
    expect(await statsOf(2019)).toEqual({ incidents: 1, victims: 4, victimsKilled: 4 });

    // The reviewer knows "Mohammed Ahmed" is "Mohammed Ali"'s other name, and that Naji Jerf is not Naji Jarf.
    const { survivor, loser } = await incidents(
      2020,
      [victim('Mohammed Ali'), victim('Naji Jarf')],
      [victim('Naji Jerf'), victim('Mohammed Ahmed', { outlet: 'Al-Ayyam' })],
    );
    const victimPairs = [{ keep: survivor.victims[0].id, merge: loser.victims[1].id }];
    const response = await merge(loser.id, { into: survivor.id, victimPairs });
    expect(response.status, response.text).toBe(200);
    expect(response.body.victimPairs).toEqual([
      {
        kept: survivor.victims[0].id,
        merged: loser.victims[1].id,
        names: { kept: 'Mohammed Ali', merged: 'Mohammed Ahmed' },
        match: 'reviewer',
        similarity: null,
        reason: 'paired by the reviewer',
      },
    ]);
    expect(response.body.victims).toEqual([
      { ...survivor.victims[0], aliases: ['Mohammed Ahmed'], outlet: 'Al-Ayyam' },
      survivor.victims[1],
      { ...loser.victims[0], id: expect.any(String) },
    ]);
    expect(await statsOf(2020)).toEqual({ incidents: 1, victims: 3, victimsKilled: 3 });
  });

  it("records the pairing in the survivor's audit record", async () => {
    const { survivor, loser } = await incidents(2021, [victim('Hala Barakat')], [victim('Halla Barakat')]);
    const response = await merge(loser.id, { into: survivor.id });
    expect(response.status, response.text).toBe(200);
    const trail = await send('reviewer', 'GET', `/v1/incidents/${survivor.id}/audit`);
    const entry = trail.body.data.find((item: any) => item.action === 'incident.merge');
    expect(entry.after.victimPairs).toEqual(response.body.victimPairs);
    expect(entry.after.victimPairs).toEqual([
      expect.objectContaining({ kept: survivor.victims[0].id, merged: loser.victims[0].id, match: 'same_name' }),
    ]);
    expect(entry.after.mergedFrom).toBe(loser.id);
  });

  it('refuses a pairing that does not fit the two incidents with 400 and field pointers, and changes nothing', async () => {
    const { survivor, loser } = await incidents(
      2022,
      [victim('Naji Jarf'), victim('Hala Barakat')],
      [victim('Naji Jerf'), victim('Halla Barakat')],
    );
    const other = await create(2022, [victim('Someone Else')]);
    const before = await snapshot(survivor.id, loser.id);
    const [jarf, barakat] = survivor.victims;
    const [jerf, halla] = loser.victims;

    const wrongIds = await merge(loser.id, {
      into: survivor.id,
      victimPairs: [
        { keep: jarf.id, merge: jerf.id },
        { keep: jerf.id, merge: jarf.id }, // the wrong way round
        { keep: barakat.id, merge: jerf.id }, // jerf a second time
        { keep: other.victims[0].id, merge: crypto.randomUUID() }, // not of these incidents
      ],
    });
    expect(wrongIds.status, wrongIds.text).toBe(400);
    expect(wrongIds.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(wrongIds.body).toMatchObject({ type: '/problems/validation-failed', status: 400 });
    expect(wrongIds.body.errors).toEqual([
      { pointer: '/victimPairs/1/keep', detail: expect.stringContaining('belongs to the incident being merged') },
      { pointer: '/victimPairs/1/merge', detail: expect.stringContaining('belongs to the survivor') },
      { pointer: '/victimPairs/2/merge', detail: 'this victim is already paired in /victimPairs/0' },
      { pointer: '/victimPairs/3/keep', detail: 'not a victim of the survivor (`into`)' },
      { pointer: '/victimPairs/3/merge', detail: 'not a victim of the incident being merged (the one in the path)' },
    ]);

    const malformed = await merge(loser.id, {
      into: survivor.id,
      victimPairs: [{ keep: 'nope', merge: halla.id, extra: 1 }, { keep: barakat.id }],
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors).toEqual(
      expect.arrayContaining([
        { pointer: '/victimPairs/0/keep', detail: 'not a victim id' },
        { pointer: '/victimPairs/0/extra', detail: 'unknown field' },
        { pointer: '/victimPairs/1/merge', detail: expect.any(String) },
      ]),
    );

    const dryRun = await merge(loser.id, { into: survivor.id, victimPairs: [{ keep: jerf.id, merge: halla.id }] }, '?dryRun=true');
    expect(dryRun.status).toBe(400);
    expect((await merge(loser.id, { into: survivor.id }, '?dryRun=maybe')).body.errors).toEqual([
      { parameter: 'dryRun', detail: expect.any(String) },
    ]);

    expect(await snapshot(survivor.id, loser.id)).toEqual(before);
    expect(await statsOf(2022)).toEqual({ incidents: 3, victims: 5, victimsKilled: 5 });
  });
});
