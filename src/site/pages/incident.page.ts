import type { PublicIncident } from '../../incidents/incident.schemas.ts';
import { verificationStatuses } from '../../incidents/taxonomies.ts';
import { citeBox, placeText, verificationBadge } from '../components.ts';
import { html, type Html } from '../html.ts';
import { page, type PageContext } from '../layout.ts';
import { siteHref } from '../site-query.ts';

/** Everything the public view of one incident holds, dates only as precise as known. */
export function incidentPage(context: PageContext, incident: PublicIncident, absoluteUrl: string): string {
  const { m, version } = context;
  const debunked = incident.verificationStatus === 'debunked';
  const row = (label: string, value: string | Html | null | undefined) =>
    value === null || value === undefined || value === '' ? '' : html`<div><dt>${label}</dt><dd>${value}</dd></div>`;
  const coordinates = incident.location.coordinates;

  const victims = incident.victims.length
    ? html`<ul class="victims">${incident.victims.map((victim) => {
        if (victim.protected) {
          return html`<li class="victim victim-protected"><p class="victim-name">${m.t('victim.withheld')}</p><dl>
            ${row(m.t('victim.role'), victim.role ? m.label('victimRoles', victim.role) : null)}
            ${row(m.t('victim.outcome'), victim.outcome ? m.label('victimOutcomes', victim.outcome) : null)}
          </dl></li>`;
        }
        return html`<li class="victim"><p class="victim-name" dir="auto">${victim.name ?? m.t('victim.unnamed')}</p><dl>
          ${row(m.t('victim.nameOriginal'), victim.nameOriginal ? html`<span dir="auto">${victim.nameOriginal}</span>` : null)}
          ${row(m.t('victim.aliases'), victim.aliases.length ? victim.aliases.join(', ') : null)}
          ${row(m.t('victim.role'), victim.role ? m.label('victimRoles', victim.role) : null)}
          ${row(m.t('victim.outcome'), victim.outcome ? m.label('victimOutcomes', victim.outcome) : null)}
          ${row(m.t('victim.gender'), victim.gender ? m.label('genders', victim.gender) : null)}
          ${row(m.t('victim.nationality'), victim.nationality ? m.country(victim.nationality) : null)}
          ${row(m.t('victim.outlet'), victim.outlet ? html`<span dir="auto">${victim.outlet}</span>` : null)}
          ${row(m.t('victim.locality'), victim.locality ? m.label('localities', victim.locality) : null)}
          ${row(m.t('victim.employment'), victim.employment ? m.label('employments', victim.employment) : null)}
        </dl></li>`;
      })}</ul>`
    : html`<p>${m.t('incident.noVictims')}</p>`;

  const claims = incident.perpetratorClaims.length
    ? html`<ul class="claims">${incident.perpetratorClaims.map(
        (claim) => html`<li class="claim">
        <p class="claim-actor" dir="auto">${claim.actorName}</p>
        <dl>
          ${row(m.t('claim.actorType'), m.label('actorTypes', claim.actorType))}
          ${row(m.t('claim.attribution'), m.label('attributions', claim.attribution))}
          ${row(m.t('claim.attributedBy'), claim.attributedBy ? html`<span dir="auto">${claim.attributedBy}</span>` : null)}
          ${row(m.t('claim.statement'), claim.statement ? html`<q dir="auto">${claim.statement}</q>` : null)}
        </dl>
      </li>`,
      )}</ul>`
    : html`<p>${m.t('incident.noClaims')}</p>`;

  const sources = incident.sources.length
    ? html`<ul class="sources">${incident.sources.map((source) => {
        const title = source.title ?? source.url ?? '';
        const safeUrl = source.url && /^https?:\/\//i.test(source.url) ? source.url : null;
        return html`<li>${safeUrl ? html`<a href="${safeUrl}" rel="external noopener noreferrer" dir="auto">${title}</a>` : html`<span dir="auto">${title}</span>`}
          ${source.publisher ? html` — <span dir="auto">${source.publisher}</span>` : ''}
          ${source.publishedOn ? html` (${m.t('source.publishedOn', { date: m.day(source.publishedOn) })})` : ''}
          <span class="source-kind">· ${m.label('sourceKinds', source.kind)}</span></li>`;
      })}</ul>`
    : html`<p>${m.t('incident.noSources')}</p>`;

  const body = html`
<article class="incident">
  ${
    debunked
      ? html`<div class="banner banner-debunked" role="note" aria-labelledby="debunked-heading">
    <h2 id="debunked-heading">${m.t('incident.debunkedBanner')}</h2>
    <p>${m.t('incident.debunkedWhy')} <a href="${siteHref('/methodology', m.locale)}#counting">${m.t('nav.methodology')}</a></p>
  </div>`
      : ''
  }
  <h1 dir="auto">${incident.title}</h1>
  <dl class="facts">
    ${row(m.t('incident.date'), html`<time datetime="${incident.date.precision === 'day' ? incident.date.start : incident.date.precision === 'month' ? incident.date.start.slice(0, 7) : incident.date.precision === 'year' ? incident.date.start.slice(0, 4) : incident.date.start}">${m.incidentDate(incident.date)}</time>`)}
    ${row(m.t('incident.place'), placeText(m, incident))}
    ${row(m.t('incident.attackTypes'), incident.attackTypes.map((code) => m.label('attackTypes', code)).join(', '))}
    ${row(m.t('incident.verification'), html`${verificationBadge(m, incident.verificationStatus)} <span class="definition" lang="en">${(verificationStatuses.definitions as Record<string, string>)[incident.verificationStatus]}</span>`)}
    ${row(m.t('incident.deathType'), incident.deathType ? m.label('deathTypes', incident.deathType) : null)}
    ${row(m.t('incident.motive'), incident.motive ? m.label('motives', incident.motive) : null)}
    ${row(m.t('incident.judicialOutcome'), incident.judicialOutcome ? m.label('judicialOutcomes', incident.judicialOutcome) : null)}
    ${row(m.t('incident.documentedBy'), html`<span dir="auto">${incident.organisation.name}</span>`)}
    ${coordinates ? row(m.t('incident.coordinatesLabel'), m.t('incident.coordinates', { latitude: m.number(coordinates.latitude), longitude: m.number(coordinates.longitude), precision: m.label('coordinatePrecisions', coordinates.precision) })) : ''}
    ${incident.publishedAt ? row(m.t('incident.published'), html`<time datetime="${incident.publishedAt}">${m.stamp(incident.publishedAt)}</time>`) : ''}
  </dl>
  ${incident.description ? html`<section aria-labelledby="details-heading"><h2 id="details-heading">${m.t('incident.details')}</h2><p dir="auto">${incident.description}</p></section>` : ''}
  <section aria-labelledby="victims-heading"><h2 id="victims-heading">${m.t('incident.victims')}</h2>${victims}</section>
  <section aria-labelledby="claims-heading"><h2 id="claims-heading">${m.t('incident.claims')}</h2>${claims}</section>
  <section aria-labelledby="sources-heading"><h2 id="sources-heading">${m.t('incident.sources')}</h2>${sources}</section>
  ${citeBox(m, { what: m.t('cite.whatIncident', { title: incident.title }), url: absoluteUrl, version })}
</article>`;
  return page(context, { title: incident.title, section: 'incident', body });
}

export function messagePage(context: PageContext, title: string, text: string): string {
  return page(context, { title, section: 'error', body: html`<h1>${title}</h1><p>${text}</p>` });
}
