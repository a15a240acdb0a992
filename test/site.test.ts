import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as taxonomies from '../src/incidents/taxonomies.ts';
import { seedSampleData } from '../src/sample-data/seed.ts';
import { assetBytes } from '../src/site/assets.ts';
import { escapeHtml, html, raw } from '../src/site/html.ts';
import { allMessages, messagesFor } from '../src/site/i18n.ts';
import { METHODOLOGY_TAXONOMIES } from '../src/site/pages/methodology.page.ts';
import { MAP_SHADES } from '../src/site/palette.ts';
import { CODES_ON_MAP, worldMap } from '../src/site/world-map.ts';
import { createActors, incidentBody, type Actors } from './support/factories.ts';
import { request, startTestApp, type TestApp } from './support/test-app.ts';

/**
 * The public site over real HTTP, on the sample incidents: every page in both languages, the
 * data version's ETag and 304, PUBLIC_SITE=false, and the leak crawl extended to the site (every
 * page, every link on it, every download), with marked confidential values in the database.
 */
let app: TestApp;
let actors: Actors;
const SECRET = `SITELEAK${randomUUID().slice(0, 8)}`;
const DRAFT = `SITEDRAFT${randomUUID().slice(0, 8)}`;
const ids = {} as Record<'jerf' | 'barakat' | 'bayazid' | 'marked' | 'yugoslavia' | 'draft', string>;

async function publish(body: Record<string, unknown>): Promise<string> {
  const created = await request(app, 'POST', '/v1/incidents', { key: actors.editor, body });
  expect(created.status, created.text).toBe(201);
  const published = await request(app, 'POST', `/v1/incidents/${created.body.id}/publish`, { key: actors.reviewer });
  expect(published.status, published.text).toBe(200);
  return created.body.id as string;
}

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${app.url}${path}`, { headers, redirect: 'manual' });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

beforeAll(async () => {
  app = await startTestApp();
  await seedSampleData(app.db);
  actors = await createActors(app.db);
  const list = await request(app, 'GET', '/v1/incidents?limit=50');
  const byTitle = (part: string) =>
    (list.body.data as { id: string; title: string }[]).find((incident) => incident.title.includes(part))!.id;
  ids.jerf = byTitle('Naji Jerf');
  ids.barakat = byTitle('Barakat');
  ids.bayazid = byTitle('Bayazid');
  ids.marked = await publish(
    incidentBody({
      title: `Reporter beaten in Reykjavík <img src=x onerror=alert(1)>`,
      internalNotes: `Safe house ${SECRET}-notes`,
      location: { country: 'IS', city: 'Reykjavík' },
      victims: [
        { name: 'Jón Open Reporter', role: 'journalist', gender: 'male', outcome: 'injured' },
        {
          name: `Hidden ${SECRET}-name`,
          nameOriginal: `${SECRET}-original`,
          aliases: [`${SECRET}-alias`],
          outlet: `${SECRET}-outlet`,
          role: 'activist',
          outcome: 'threatened',
          protected: true,
        },
      ],
      sources: [
        { url: 'https://example.org/public-report', title: 'Public report', kind: 'media_report', public: true },
        {
          url: `https://example.org/${SECRET}-private-url`,
          title: `${SECRET}-private-title`,
          publisher: `${SECRET}-publisher`,
          kind: 'witness_statement',
          public: false,
        },
      ],
    }),
  );
  ids.yugoslavia = await publish(
    incidentBody({
      title: 'Journalist killed in Belgrade',
      internalNotes: `${SECRET}-yu-notes`,
      date: { precision: 'day', value: '1999-04-23' },
      location: { country: 'YUCS', city: 'Belgrade' },
      attackTypes: ['killing'],
      victims: [{ name: 'Open Victim', role: 'journalist', outcome: 'killed' }],
      sources: [],
    }),
  );
  const draft = await request(app, 'POST', '/v1/incidents', {
    key: actors.editor,
    body: incidentBody({ title: `${DRAFT} unpublished`, description: DRAFT }),
  });
  ids.draft = draft.body.id;
});
afterAll(() => app?.close());

describe('pages', () => {
  const pages = () => ['/', '/explore', '/statistics', '/methodology', `/incidents/${ids.jerf}`];

  it('answers every page in English and Arabic, with lang and dir', async () => {
    for (const path of pages()) {
      const english = await get(path);
      expect(english.status, path).toBe(200);
      expect(english.headers.get('content-type')).toMatch(/^text\/html/);
      expect(english.text).toMatch(/<html lang="en" dir="ltr">/);
      const arabic = await get(`${path}${path.includes('?') ? '&' : '?'}lang=ar`);
      expect(arabic.status, path).toBe(200);
      expect(arabic.text).toMatch(/<html lang="ar" dir="rtl">/);
      expect(arabic.headers.get('content-language')).toBe('ar');
    }
  });

  it('carries the data version ETag and answers 304 until the data changes', async () => {
    for (const path of pages()) {
      const first = await get(path);
      const etag = first.headers.get('etag');
      expect(etag, path).toMatch(/^W\/"\d+-/);
      expect((await get(path, { 'if-none-match': etag! })).status, path).toBe(304);
    }
    const etag = (await get('/statistics')).headers.get('etag')!;
    await request(app, 'POST', '/v1/incidents', { key: actors.editor, body: incidentBody() }); // any write moves the data version
    expect((await get('/statistics', { 'if-none-match': etag })).status).toBe(200);
  });

  it('shows the seed incidents, newest first, on the home page and in explore', async () => {
    const home = await get('/');
    expect(home.text).toContain('Journalist and activist Naji Jerf shot dead in Gaziantep');
    const explore = await get('/explore');
    for (const part of ['Fares Hamadi', 'Naji Jerf', 'Orouba Barakat', 'Mohammad Bayazid']) expect(explore.text).toContain(part);
  });

  it('shows dates only as precisely as known', async () => {
    const jerf = await get(`/incidents/${ids.jerf}`);
    expect(jerf.text).toContain('December 2015');
    expect(jerf.text).not.toMatch(/\b1 December 2015/);
    expect((await get(`/incidents/${ids.barakat}`)).text).toMatch(/20\s?–\s?30 September 2017/);
    const bayazid = await get(`/incidents/${ids.bayazid}`);
    expect(bayazid.text).toMatch(/<time datetime="2017">2017<\/time>/);
    expect((await get(`/incidents/${ids.jerf}?lang=ar`)).text).toContain('ديسمبر 2015');
  });

  it('puts a banner on the debunked incident saying why it is not counted, and only there', async () => {
    const bayazid = await get(`/incidents/${ids.bayazid}`);
    expect(bayazid.text).toContain('banner-debunked');
    expect(bayazid.text).toContain('left out of every count');
    expect((await get(`/incidents/${ids.jerf}`)).text).not.toContain('banner-debunked');
    expect((await get(`/incidents/${ids.bayazid}?lang=ar`)).text).toContain('ثبت عدم صحتها');
  });

  it('finds Naji Jerf by name and narrows the list by a filter carried in the URL', async () => {
    const found = await get('/explore?q=Naji+Jerf');
    expect(found.text).toContain('1 incident matches');
    expect(found.text).toContain('Gaziantep');
    const debunked = await get('/explore?verificationStatus=debunked');
    expect(debunked.text).toContain('1 incident matches');
    expect(debunked.text).toContain('Bayazid');
    expect(debunked.text).toMatch(/<option value="debunked" selected>/);
  });

  it('finds Naji Jerf by the spelling "Naji Jarf"', async () => {
    const found = await get('/explore?q=Naji+Jarf');
    expect(found.text).toContain('Journalist and activist Naji Jerf shot dead in Gaziantep');
  });

  it('names a filter it cannot use and still answers', async () => {
    const response = await get('/explore?attackType=bombing&colour=blue&hasProtectedVictims=true');
    expect(response.status).toBe(200);
    expect(response.text).toContain('<code>attackType</code>');
    expect(response.text).toContain('<code>colour</code>');
    expect(response.text).toContain('<code>hasProtectedVictims</code>');
  });

  it('escapes text from the database', async () => {
    const page = await get(`/incidents/${ids.marked}`);
    expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page.text).not.toContain('<img src=x');
  });

  it('answers 404 for an unknown or unpublished incident, and for a draft', async () => {
    expect((await get(`/incidents/${randomUUID()}`)).status).toBe(404);
    expect((await get('/incidents/not-an-id')).status).toBe(404);
    const draft = await get(`/incidents/${ids.draft}`);
    expect(draft.status).toBe(404);
    expect(draft.text).not.toContain(DRAFT);
  });

  it('shades Turkey on the map, lists Yugoslavia beside it, and links each chart to the CSV of its numbers', async () => {
    const page = await get('/statistics');
    expect(page.text).toMatch(/<path[^>]*fill="(?!#ffffff)[^"]+"[^>]*data-country="TR"/);
    expect(page.text).toMatch(/<path[^>]*fill="#ffffff"[^>]*data-country="FR"/);
    expect(page.text).toContain('Not on today’s map');
    expect(page.text).toMatch(/Yugoslavia<\/th><td>No longer exists<\/td><td class="num">1<\/td>/);
    expect(page.text).toContain('role="img"');
    expect(page.text).not.toMatch(/<style|style="/);
    for (const groupBy of ['year', 'country', 'attackType', 'actorType', 'year%2CattackType']) {
      expect(page.text).toContain(`/v1/stats?groupBy=${groupBy}&amp;format=csv`);
    }
    const csv = await get('/v1/stats?groupBy=country&format=csv');
    expect(csv.text).toMatch(/TR,Türkiye|TR,Turkey/);
  });

  it('counts 2015 without the debunked incident and offers the downloads with the data version in their names', async () => {
    const page = await get('/statistics?dateFrom=2015&dateTo=2015&country=TR');
    expect(page.text).toContain('2 incidents, 3 victims, 3 killed');
    const csvLink = page.text.match(/href="([^"]*\/v1\/incidents\/export[^"]*format=csv)"/)![1]!.replace(/&amp;/g, '&');
    expect(csvLink).toContain('country=TR');
    const csv = await get(csvLink);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toMatch(/dateline-incidents-\d+\.csv/);
    expect(csv.text).toContain('Naji Jerf');
  });

  it('offers a citation with the data version, its date and the URL with the filters', async () => {
    const page = await get('/explore?country=TR');
    expect(page.text).toMatch(
      /<textarea id="citation" readonly rows="3">Dateline, incidents, data version \d+ \(as of .+ UTC\)\. http:\/\/127\.0\.0\.1:\d+\/explore\?country=TR<\/textarea>/,
    );
  });

  it('has a methodology page with every code of every taxonomy and its definition', async () => {
    const page = await get('/methodology');
    for (const name of METHODOLOGY_TAXONOMIES) {
      for (const [code, definition] of Object.entries(taxonomies[name].definitions as Record<string, string>)) {
        expect(page.text).toContain(`<code>${code}</code>`);
        expect(page.text).toContain(escapeHtml(definition));
      }
    }
    const arabic = await get('/methodology?lang=ar');
    expect(arabic.text).toContain('اغتيال');
    expect(arabic.text).toContain('جماعة مسلحة غير حكومية');
    // Definitions in Arabic too, from the catalog, with no note that they are in English.
    expect(arabic.text).toContain('قُتل في تبادل إطلاق نار أو قتال');
    expect(arabic.text).not.toContain(messagesFor('ar').t('method.definitionLanguage'));
  });

  it('answers a mistyped address with a page for a browser and with problem+json for an API client', async () => {
    const page = await get('/explor?lang=ar', { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('lang="ar"');
    expect(page.text).toContain('الصفحة غير موجودة');
    const api = await get('/explor', { accept: 'application/json' });
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it("does not count the assets against a reader's anonymous rate limit", async () => {
    const home = await get('/');
    const asset = home.text.match(/\/assets\/site\.css\?v=[\w-]+/)![0];
    expect((await get(asset)).headers.get('ratelimit')).toBeNull();
    expect(home.headers.get('ratelimit')).not.toBeNull();
  });

  it('serves the assets with long cache headers, and JS+CSS stay far below 200 kB gzipped', async () => {
    const home = await get('/');
    for (const asset of home.text.match(/\/assets\/[\w.]+\?v=[\w-]+/g)!) {
      const response = await get(asset);
      expect(response.status, asset).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    const { raw: rawBytes, gzipped } = assetBytes();
    console.log(`site JS+CSS per page: ${rawBytes} bytes, ${gzipped} bytes gzipped (limit 200 kB); no chart JS is shipped`);
    expect(gzipped).toBeLessThan(200 * 1024);
  });
});

describe('message catalogs', () => {
  it('label every taxonomy code and carry the same keys in every language', () => {
    const english = messagesFor('en');
    for (const m of allMessages()) {
      for (const [name, taxonomy] of Object.entries(taxonomies)) {
        for (const code of taxonomy.codes) expect(m.has(`code.${name}.${code}`), `${m.locale}: code.${name}.${code}`).toBe(true);
      }
      expect(m.label('attackTypes', 'killing')).not.toBe('killing');
    }
    // Definitions: English is taxonomies.ts itself; the other catalogs translate every one.
    for (const m of allMessages().filter((m) => m.locale !== 'en')) {
      for (const name of METHODOLOGY_TAXONOMIES) {
        for (const code of taxonomies[name].codes)
          expect(m.has(`definition.${name}.${code}`), `${m.locale}: definition.${name}.${code}`).toBe(true);
      }
    }
    expect(english.label('deathTypes', 'murder')).toBe('Murder');
    expect(messagesFor('ar').label('deathTypes', 'murder')).toBe('اغتيال');
  });

  it('format dates as precisely as known, in the locale', () => {
    const en = messagesFor('en');
    expect(en.incidentDate({ precision: 'month', start: '2015-10-01', end: '2015-10-31' })).toBe('October 2015');
    expect(en.incidentDate({ precision: 'year', start: '2015-01-01', end: '2015-12-31' })).toBe('2015');
    expect(en.incidentDate({ precision: 'day', start: '2015-12-27', end: '2015-12-27' })).toBe('27 December 2015');
    expect(en.incidentDate({ precision: 'range', start: '2017-09-20', end: '2017-09-30' })).toMatch(/^20\s?–\s?30 September 2017$/);
    expect(messagesFor('ar').incidentDate({ precision: 'month', start: '2015-10-01', end: '2015-10-31' })).toMatch(/أكتوبر/);
  });
});

describe('the html template', () => {
  it('escapes every interpolated value unless it is markup built by the site', () => {
    expect(html`<p title="${'"><script>'}">${'<b>&</b>'}</p>`.value).toBe(
      '<p title="&quot;&gt;&lt;script&gt;">&lt;b&gt;&amp;&lt;/b&gt;</p>',
    );
    expect(html`<p>${raw('<b>ok</b>')}${['a', '<'].map((text) => html`<i>${text}</i>`)}${null}${false}${0}</p>`.value).toBe(
      '<p><b>ok</b><i>a</i><i>&lt;</i>0</p>',
    );
    expect(escapeHtml(`'\``)).toBe('&#39;&#96;');
  });
});

describe('the world map', () => {
  /** The fill and title of a country's path, as a reader's browser would show them. */
  const country = (svg: string, code: string) => {
    const match = new RegExp(`<path[^>]* fill="([^"]+)"[^>]* data-country="${code}"><title>([^<]*)</title></path>`).exec(svg);
    return match ? { fill: match[1], title: match[2] } : undefined;
  };
  const legend = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((match) => match[1]);

  it('fills each country with its own shade and title, and nothing of one shading stays in the next', () => {
    const m = messagesFor('en');
    const first = worldMap(
      m,
      new Map([
        ['SY', 17],
        ['TR', 5],
        ['FR', 1],
        ['YUCS', 2],
      ]),
      'First <map>',
    ).svg.value;
    const second = worldMap(
      m,
      new Map([
        ['TR', 2],
        ['DE', 1],
      ]),
      'Second map',
    ).svg.value;

    // 17 at most: bands 1–5, 6–10, 11–15, 16–17, one shade each after white.
    expect(country(first, 'SY')).toEqual({ fill: MAP_SHADES[4], title: `${m.country('SY')}: 17` });
    expect(country(first, 'TR')).toEqual({ fill: MAP_SHADES[1], title: `${m.country('TR')}: 5` });
    expect(country(first, 'FR')).toEqual({ fill: MAP_SHADES[1], title: `${m.country('FR')}: 1` });
    expect(country(first, 'DE')).toEqual({ fill: MAP_SHADES[0], title: `${m.country('DE')}: 0` });
    expect(legend(first)).toEqual(['16–17', '11–15', '6–10', '1–5', '0']);
    expect(first).toContain('aria-label="First &lt;map&gt;"');

    // 2 at most: one band per count, the darkest shades.
    expect(country(second, 'TR')).toEqual({ fill: MAP_SHADES[4], title: `${m.country('TR')}: 2` });
    expect(country(second, 'DE')).toEqual({ fill: MAP_SHADES[3], title: `${m.country('DE')}: 1` });
    expect(country(second, 'SY')).toEqual({ fill: MAP_SHADES[0], title: `${m.country('SY')}: 0` });
    expect(country(second, 'FR')).toEqual({ fill: MAP_SHADES[0], title: `${m.country('FR')}: 0` });
    expect(legend(second)).toEqual(['2', '1', '0']);
    expect(second).toContain('aria-label="Second map"');

    // The same outlines in both: only the fills, the titles and the legend differ.
    const outlines = (svg: string) =>
      [...svg.matchAll(/<path d="([^"]+)"[^>]* data-country="([A-Z]+)"/g)].map((match) => `${match[2]} ${match[1]}`);
    expect(outlines(first)).toHaveLength(CODES_ON_MAP.size);
    expect(outlines(second)).toEqual(outlines(first));
  });

  it('names the countries in the language of the page and puts the legend on its side', () => {
    const ar = messagesFor('ar');
    const svg = worldMap(ar, new Map([['TR', 3]]), 'خريطة').svg.value;
    expect(country(svg, 'TR')).toEqual({ fill: MAP_SHADES[4], title: `${ar.country('TR')}: ${ar.number(3)}` });
    expect(svg).toMatch(/<text[^>]* text-anchor="end"[^>]*>/);
    expect(svg).not.toContain('Türkiye');
    expect(worldMap(messagesFor('en'), new Map([['TR', 3]]), 'Map').svg.value).toMatch(/<text[^>]* text-anchor="start"[^>]*>/);
  });
});

describe('nothing confidential on any page, link or download', () => {
  it('crawls every site page and every same-origin link on them, in both languages, and finds no marker', async () => {
    const seen = new Set<string>();
    const queue = [
      '/',
      '/?lang=ar',
      `/incidents/${ids.marked}`,
      `/incidents/${ids.marked}?lang=ar`,
      '/explore?country=IS',
      '/statistics?country=IS',
    ];
    const markers = [SECRET, DRAFT, 'Safe house'];
    let downloads = 0;
    while (queue.length && seen.size < 400) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const response = await get(path);
      expect([200, 304, 308], path).toContain(response.status);
      const everything = `${[...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n')}\n${response.text}`;
      for (const marker of markers) expect(everything.includes(marker), `${marker} in ${path}`).toBe(false);
      if (path.startsWith('/v1/')) {
        downloads++;
        continue; // downloads and API answers hold no links to follow
      }
      for (const [, href] of response.text.matchAll(/href="([^"#]*)"/g)) {
        const link = href!.replace(/&amp;/g, '&');
        if (!link.startsWith('/') || link.startsWith('//') || link.startsWith('/docs') || link.startsWith('/assets/')) continue;
        if (!seen.has(link)) queue.push(link);
      }
    }
    expect(downloads).toBeGreaterThan(5);
    expect(seen.size).toBeGreaterThan(30);
    // The protected victim is there, as the public API shows it.
    const marked = await get(`/incidents/${ids.marked}`);
    expect(marked.text).toContain('Name withheld to protect this person');
    expect(marked.text).toContain('Public report');
  }, 120_000);
});

describe('PUBLIC_SITE=false', () => {
  it('leaves only the API: / answers 404', async () => {
    const apiOnly = await startTestApp({ PUBLIC_SITE: 'false' });
    try {
      expect((await fetch(`${apiOnly.url}/`)).status).toBe(404);
      expect((await fetch(`${apiOnly.url}/explore`)).status).toBe(404);
      expect((await fetch(`${apiOnly.url}/v1/incidents`)).status).toBe(200);
    } finally {
      await apiOnly.close();
    }
  });
});
