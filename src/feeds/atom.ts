import type { PublicIncident } from '../incidents/incident.schemas.ts';
import type { Tombstone } from './feed.queries.ts';

/**
 * An Atom 1.0 document (RFC 4287) with tombstones (RFC 6721), written by hand: a handful of
 * elements, every text escaped once for XML (and the entry's HTML content escaped for HTML
 * first, then for XML). Characters XML 1.0 cannot carry (C0 controls other than tab and line
 * breaks, U+FFFE, U+FFFF) are dropped; everything else is kept as stored.
 */
export interface FeedLinks {
  /** Absolute origin of the site and the API, e.g. https://dateline.example.org */
  origin: string;
  /** Tag URI authority (RFC 4151), e.g. dateline.example.org */
  authority: string;
  /** Names the feed in its tag: id: "all", or a digest of its query. */
  feedKey: string;
  /** With filters, the links name the unfiltered feed and the site's explore page (no echo of the query). */
  filtered: boolean;
}

// eslint-disable-next-line no-control-regex -- these are exactly the characters XML 1.0 forbids
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function escapeXml(text: string): string {
  return text
    .replace(INVALID_XML, '')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Stable for the life of the incident: the id never changes, nor the authority of an instance. */
export const entryId = (authority: string, incidentId: string) => `tag:${authority},2026:incident:${incidentId}`;

const words = (code: string | null | undefined) => (code ? code.replaceAll('_', ' ') : '');

function dateText(date: PublicIncident['date']): string {
  const { precision, start, end } = date as { precision: string; start: string; end: string };
  if (precision === 'day') return start;
  if (precision === 'month') return start.slice(0, 7);
  if (precision === 'year') return start.slice(0, 4);
  return `${start} – ${end}`;
}

/** The public view as readable HTML (escaped: it goes into <content type="html">). */
export function incidentHtml(incident: PublicIncident, pageUrl: string): string {
  const e = escapeXml; // the same five characters escape HTML text and attributes
  const location = [incident.location.city, incident.location.region, incident.location.countryName].filter(Boolean).join(', ');
  const parts: string[] = [
    `<p><strong>${e(dateText(incident.date))}</strong>, ${e(location)}</p>`,
    `<p>Attack: ${e(incident.attackTypes.map(words).join(', '))}. Verification: ${e(words(incident.verificationStatus))}.` +
      `${incident.deathType ? ` Type of death: ${e(words(incident.deathType))}.` : ''}</p>`,
  ];
  if (incident.description) parts.push(`<p>${e(incident.description)}</p>`);
  if (incident.victims.length) {
    const victims = incident.victims.map((victim) => {
      const v = victim as {
        name?: string | null;
        nameOriginal?: string | null;
        role?: string | null;
        outcome?: string | null;
        outlet?: string | null;
      };
      const name = [v.name ?? 'unnamed', v.nameOriginal ? `(${v.nameOriginal})` : ''].filter(Boolean).join(' ');
      const about = [words(v.role), v.outlet ?? '', words(v.outcome)].filter(Boolean).join(', ');
      return `<li>${e(name)}${about ? ` — ${e(about)}` : ''}</li>`;
    });
    parts.push(`<p>Victims:</p><ul>${victims.join('')}</ul>`);
  }
  if (incident.perpetratorClaims.length) {
    const claims = incident.perpetratorClaims.map(
      (claim) =>
        `<li>${e(claim.actorName)} (${e(words(claim.actorType))}, ${e(words(claim.attribution))}${claim.attributedBy ? `, by ${e(claim.attributedBy)}` : ''})</li>`,
    );
    parts.push(`<p>Perpetrators:</p><ul>${claims.join('')}</ul>`);
  }
  if (incident.sources.length) {
    const sources = incident.sources.map((source) => {
      const label = e([source.title, source.publisher].filter(Boolean).join(', ') || source.url || '');
      return `<li>${source.url && /^https?:\/\//i.test(source.url) ? `<a href="${e(source.url)}">${label}</a>` : label}</li>`;
    });
    parts.push(`<p>Sources:</p><ul>${sources.join('')}</ul>`);
  }
  parts.push(`<p><a href="${e(pageUrl)}">${e(pageUrl)}</a></p>`);
  return parts.join('\n');
}

export function atomFeed(
  links: FeedLinks,
  {
    title,
    updated,
    incidents,
    tombstones,
    limit,
  }: { title: string; updated: Date; incidents: PublicIncident[]; tombstones: Tombstone[]; limit: number },
): string {
  const e = escapeXml;
  type Item = { at: number; xml: string };
  const items: Item[] = [
    ...incidents.map((incident) => {
      const page = `${links.origin}/incidents/${incident.id}`;
      const published = incident.publishedAt ? `\n    <published>${incident.publishedAt}</published>` : '';
      const categories = incident.attackTypes.map((code) => `\n    <category term="${e(code)}" label="${e(words(code))}"/>`).join('');
      return {
        at: Date.parse(incident.updatedAt),
        xml: `  <entry>
    <id>${e(entryId(links.authority, incident.id))}</id>
    <title type="text">${e(incident.title)}</title>
    <updated>${incident.updatedAt}</updated>${published}
    <author><name>${e(incident.organisation.name)}</name></author>
    <link rel="alternate" type="text/html" href="${e(page)}"/>${categories}
    <content type="html">${e(incidentHtml(incident, page))}</content>
  </entry>`,
      };
    }),
    ...tombstones.map((tombstone) => ({
      at: tombstone.withdrawnAt.getTime(),
      xml: `  <at:deleted-entry ref="${e(entryId(links.authority, tombstone.incidentId))}" when="${tombstone.withdrawnAt.toISOString()}">
    <at:comment>${tombstone.reason === 'merged' ? 'Merged into another incident.' : 'Withdrawn from the public record.'}</at:comment>
  </at:deleted-entry>`,
    })),
  ]
    .sort((a, b) => b.at - a.at)
    .slice(0, limit);
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:at="http://purl.org/atompub/tombstones/1.0">
  <id>${e(`tag:${links.authority},2026:feed:incidents:${links.feedKey}`)}</id>
  <title type="text">${e(title)}</title>
  <updated>${updated.toISOString()}</updated>
  <author><name>Dateline</name></author>
  <generator>Dateline</generator>
${links.filtered ? '' : `  <link rel="self" type="application/atom+xml" href="${e(`${links.origin}/v1/incidents/feed.atom`)}"/>\n`}\
  <link rel="alternate" type="text/html" href="${e(`${links.origin}/explore`)}"/>
${items.map((item) => item.xml).join('\n')}
</feed>
`;
}
