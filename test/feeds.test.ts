import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { incidentBody } from './support/factories.ts';
import { request, useTestApp } from './support/test-app.ts';

/**
 * GET /v1/incidents/feed.atom: entries on publish, updated on correction, tombstones for
 * withdrawn and merged incidents, every public filter, the public view only, ETag and 304, read
 * by a parser nobody here wrote (Python's feedparser, Debian python3-feedparser).
 */
const t = useTestApp({ PUBLIC_URL: 'https://dateline.example.org' });
const MARK = `FEEDSECRET${randomUUID().slice(0, 8)}`;

// The first Python that has feedparser: PATH's, else Debian's own (a pyenv shim may hide it).
const python = ['python3', '/usr/bin/python3'].find(
  (candidate) => spawnSync(candidate, ['-c', 'import feedparser'], { stdio: 'ignore' }).status === 0,
);
const hasFeedparser = python !== undefined;
if (!hasFeedparser)
  console.warn(
    'feeds.test.ts: the feedparser checks are skipped: python3 with feedparser is missing (apt-get install -y python3-feedparser)',
  );

interface ParsedFeed {
  bozo: boolean;
  bozo_exception: string | null;
  title: string;
  entries: Array<{ id: string; title: string; updated: string; link: string; content: string; tags: string[] }>;
}

/** feedparser's reading of the feed: every entry, and whether it found the XML malformed (bozo). */
function parseWithFeedparser(xml: string): ParsedFeed {
  const script = `
import sys, json, feedparser
d = feedparser.parse(sys.stdin.buffer.read())
print(json.dumps({
  "bozo": bool(d.bozo), "bozo_exception": str(d.get("bozo_exception")) if d.bozo else None,
  "title": d.feed.get("title", ""),
  "entries": [{"id": e.get("id"), "title": e.get("title"), "updated": e.get("updated"), "link": e.get("link"),
               "content": (e.get("content") or [{}])[0].get("value", ""), "tags": [t.term for t in e.get("tags", [])]} for e in d.entries],
}))`;
  return JSON.parse(execFileSync(python!, ['-c', script], { input: xml, encoding: 'utf8' })) as ParsedFeed;
}

const feed = (query = '', headers: Record<string, string> = {}) => request(t.app, 'GET', `/v1/incidents/feed.atom${query}`, { headers });
const entryId = (id: string) => `tag:dateline.example.org,2026:incident:${id}`;

async function createPublished(overrides: Record<string, unknown> = {}) {
  const created = await request(t.app, 'POST', '/v1/incidents', {
    key: t.actors.editor,
    body: incidentBody({ internalNotes: `${MARK}-notes`, ...overrides }),
  });
  expect(created.status, created.text).toBe(201);
  const published = await request(t.app, 'POST', `/v1/incidents/${created.body.id}/publish`, { key: t.actors.reviewer });
  expect(published.status, published.text).toBe(200);
  return created.body.id as string;
}

const ids = {} as Record<'english' | 'arabic' | 'syria' | 'withdrawn' | 'deleted' | 'loser' | 'survivor' | 'draft', string>;

beforeAll(async () => {
  ids.english = await createPublished({
    title: 'Reporter beaten in Istanbul <b>&</b> "robbed"',
    description: 'Line one\u0007 & <script>alert(1)</script>',
  });
  ids.arabic = await createPublished({
    title: 'اغتيال الصحفي ناجي الجرف في غازي عنتاب',
    description: 'قتل الصحفي السوري ناجي الجرف بمسدس كاتم للصوت.',
    location: { country: 'TR', city: 'غازي عنتاب' },
    victims: [
      { name: 'Naji Jerf', nameOriginal: 'ناجي الجرف', role: 'journalist', outcome: 'killed', gender: 'male' },
      { name: `${MARK} hidden`, protected: true },
    ],
    attackTypes: ['killing'],
  });
  ids.syria = await createPublished({
    title: 'Journalist killed in Aleppo',
    location: { country: 'SY', city: 'Aleppo' },
    attackTypes: ['killing'],
    victims: [{ name: 'Syrian Reporter', role: 'journalist', outcome: 'killed' }],
  });
  ids.withdrawn = await createPublished({ title: 'Later withdrawn' });
  ids.deleted = await createPublished({ title: 'Later deleted' });
  ids.loser = await createPublished({ title: 'Merged away' });
  ids.survivor = await createPublished({ title: 'Survivor of a merge' });
  const draft = await request(t.app, 'POST', '/v1/incidents', { key: t.actors.editor, body: incidentBody({ title: `${MARK} draft` }) });
  ids.draft = draft.body.id;

  expect((await request(t.app, 'POST', `/v1/incidents/${ids.withdrawn}/unpublish`, { key: t.actors.reviewer })).status).toBe(200);
  expect(
    (await request(t.app, 'DELETE', `/v1/incidents/${ids.deleted}`, { key: t.actors.editor, body: { reason: 'duplicate entry' } })).status,
  ).toBe(204);
  const merged = await request(t.app, 'POST', `/v1/incidents/${ids.loser}/merge`, { key: t.actors.reviewer, body: { into: ids.survivor } });
  expect(merged.status, merged.text).toBe(200);
  // A never-published draft deleted: it was never in the feed, so it leaves no tombstone.
  expect((await request(t.app, 'DELETE', `/v1/incidents/${ids.draft}`, { key: t.actors.editor, body: { reason: 'test' } })).status).toBe(
    204,
  );
});

describe('the Atom feed', () => {
  it('lists published incidents, newest change first, with stable tag: ids and the public view only', async () => {
    const response = await feed();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/atom\+xml/);
    expect(response.text).not.toContain(MARK);
    expect(response.text).not.toContain('Private tip');
    expect(response.text).not.toContain('Secret Witness Name');
    for (const id of [ids.english, ids.arabic, ids.syria, ids.survivor]) expect(response.text).toContain(`<id>${entryId(id)}</id>`);
    for (const id of [ids.withdrawn, ids.deleted, ids.loser]) expect(response.text).not.toContain(`<id>${entryId(id)}</id>`);
    expect(response.text).toContain(`href="https://dateline.example.org/incidents/${ids.english}"`);
    const updated = [...response.text.matchAll(/<(?:updated>|at:deleted-entry [^>]*when=")([^<"]+)/g)]
      .slice(1)
      .map((match) => Date.parse(match[1]!));
    expect(updated).toEqual([...updated].sort((a, b) => b - a));
  });

  it('leaves tombstones (RFC 6721) for withdrawn, deleted and merged incidents, never for drafts', async () => {
    const { text } = await feed();
    expect(text).toContain('xmlns:at="http://purl.org/atompub/tombstones/1.0"');
    for (const id of [ids.withdrawn, ids.deleted, ids.loser])
      expect(text).toMatch(new RegExp(`<at:deleted-entry ref="${entryId(id)}" when="[^"]+Z"`));
    expect(text).not.toContain(ids.draft);
  });

  it('updates an entry on correction, and republishing replaces the tombstone with the entry', async () => {
    const before = (await request(t.app, 'GET', `/v1/incidents/${ids.english}`)).body.updatedAt as string;
    const own = await request(t.app, 'GET', `/v1/incidents/${ids.english}`, { key: t.actors.editor });
    const patched = await request(t.app, 'PATCH', `/v1/incidents/${ids.english}`, {
      key: t.actors.editor,
      headers: { 'if-match': `"${own.body.version}"` },
      body: { title: 'Reporter beaten in Istanbul (corrected)' },
    });
    expect(patched.status, patched.text).toBe(200);
    const { text } = await feed();
    expect(text).toContain('Reporter beaten in Istanbul (corrected)');
    const first = text.indexOf('<entry>');
    expect(text.slice(first, text.indexOf('</entry>', first))).toContain(entryId(ids.english));
    expect(text).toContain(`<updated>${patched.body.updatedAt}</updated>`);
    expect(Date.parse(patched.body.updatedAt)).toBeGreaterThan(Date.parse(before));

    expect((await request(t.app, 'POST', `/v1/incidents/${ids.withdrawn}/publish`, { key: t.actors.reviewer })).status).toBe(200);
    const again = (await feed()).text;
    expect(again).toContain(`<id>${entryId(ids.withdrawn)}</id>`);
    expect(again).not.toContain(`ref="${entryId(ids.withdrawn)}"`);
    expect((await request(t.app, 'POST', `/v1/incidents/${ids.withdrawn}/unpublish`, { key: t.actors.reviewer })).status).toBe(200);
  });

  it("takes every public list filter, through the list's filter compiler", async () => {
    const syria = (await feed('?country=SY&victimOutcome=killed')).text;
    expect(syria).toContain(entryId(ids.syria));
    expect(syria).not.toContain(`<id>${entryId(ids.english)}</id>`);
    const search = (await feed('?q=Jerf')).text;
    expect(search).toContain(entryId(ids.arabic));
    expect(search).not.toContain(`<id>${entryId(ids.syria)}</id>`);
    // The list and the feed agree on the same filters.
    for (const query of [
      '?country=TR',
      '?attackType=killing',
      '?victimRole=journalist&victimOutcome=killed',
      '?q=Istanbul',
      '?dateFrom=2024&dateTo=2024-12',
    ]) {
      const list = await request(t.app, 'GET', `/v1/incidents${query}&sort=-updated&limit=200`);
      const entries = [...(await feed(`${query}&limit=200`)).text.matchAll(/<id>tag:[^,]+,2026:incident:([^<]+)<\/id>/g)].map(
        (match) => match[1],
      );
      expect(entries, query).toEqual((list.body.data as { id: string }[]).map((incident) => incident.id));
    }
    expect((await feed('?hasProtectedVictims=true')).status).toBe(400);
    expect((await feed('?colour=red')).status).toBe(400);
    expect((await feed('?limit=0')).status).toBe(400);
    expect((await feed('?victimGender=male')).text).not.toContain(MARK);
  });

  it("carries the data version's ETag and answers 304", async () => {
    const first = await feed('?country=TR');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"/);
    expect(first.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=5, stale-while-revalidate=30');
    expect((await feed('?country=TR', { 'if-none-match': etag })).status).toBe(304);
    expect((await feed('?country=SY', { 'if-none-match': etag })).status).toBe(200);
    await createPublished({ title: 'A new one' });
    expect((await feed('?country=TR', { 'if-none-match': etag })).status).toBe(200);
  });

  it("is announced by the site's list pages, with their filters", async () => {
    const page = await fetch(`${t.app.url}/explore?country=SY&attackType=killing`).then((response) => response.text());
    const href = /<link rel="alternate" type="application\/atom\+xml" href="([^"]+)">/.exec(page)?.[1]?.replaceAll('&amp;', '&');
    expect(href).toBe('/v1/incidents/feed.atom?attackType=killing&country=SY');
    const linked = await feed(href!.slice('/v1/incidents/feed.atom'.length));
    expect(linked.status).toBe(200);
    expect(linked.text).toContain(entryId(ids.syria));
  });

  it.skipIf(!hasFeedparser)('is read by feedparser without a bozo error, English and Arabic alike', async () => {
    for (const query of ['', '?country=TR', '?q=Jerf', '?limit=2', '?country=ZW']) {
      const { text } = await feed(query);
      const parsed = parseWithFeedparser(text);
      expect(parsed.bozo, `${query}: ${parsed.bozo_exception}`).toBe(false);
      expect(parsed.entries.length, query).toBe((text.match(/<entry>/g) ?? []).length);
      for (const entry of parsed.entries) {
        expect(entry.id).toMatch(/^tag:dateline\.example\.org,2026:incident:[0-9a-f-]{36}$/);
        expect(entry.title).toBeTruthy();
        expect(entry.updated).toBeTruthy();
        expect(entry.link).toMatch(/^https:\/\/dateline\.example\.org\/incidents\//);
        expect(entry.content).toContain(entry.link);
      }
    }
    const all = parseWithFeedparser((await feed()).text);
    const arabic = all.entries.find((entry) => entry.id === entryId(ids.arabic))!;
    expect(arabic.title).toBe('اغتيال الصحفي ناجي الجرف في غازي عنتاب');
    expect(arabic.content).toContain('قتل الصحفي السوري ناجي الجرف بمسدس كاتم للصوت.');
    expect(arabic.content).toContain('ناجي الجرف');
    expect(arabic.tags).toEqual(['killing']);
    const english = all.entries.find((entry) => entry.id === entryId(ids.english))!;
    // Escaped, not interpreted: the text reads as written, and no script survives sanitising.
    expect(english.content).toContain('&lt;script&gt;');
    expect(english.content).not.toContain('<script>');
  });
});
