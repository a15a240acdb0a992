import type { DataVersion } from '../db/data-version.ts';
import type { PublicIncident } from '../incidents/incident.schemas.ts';
import * as taxonomies from '../incidents/taxonomies.ts';
import type { Dimension } from '../statistics/statistics.schemas.ts';
import { html, type Html } from './html.ts';
import type { Messages } from './i18n.ts';
import { apiHref, siteHref, type SiteQuery } from './site-query.ts';

/** Pieces several pages share: the filter form, incident summaries, downloads, the citation box. */
type TaxonomyName = keyof typeof taxonomies;

/** Which taxonomy labels each filter and dimension. */
export const FILTER_TAXONOMIES = {
  attackType: 'attackTypes',
  victimRole: 'victimRoles',
  victimGender: 'genders',
  actorType: 'actorTypes',
  attribution: 'attributions',
  verificationStatus: 'verificationStatuses',
  motive: 'motives',
  judicialOutcome: 'judicialOutcomes',
  deathType: 'deathTypes',
} as const satisfies Record<string, TaxonomyName>;

export const DIMENSION_TAXONOMIES: Partial<Record<Dimension, TaxonomyName>> = {
  attackType: 'attackTypes',
  actorType: 'actorTypes',
  attribution: 'attributions',
  victimRole: 'victimRoles',
  gender: 'genders',
  verificationStatus: 'verificationStatuses',
  motive: 'motives',
  judicialOutcome: 'judicialOutcomes',
  deathType: 'deathTypes',
};

/** A group's value in words: a year, a month, a country or a code's label. */
export function dimensionValue(m: Messages, dimension: Dimension, value: string | number | null | undefined): string {
  if (value === null || value === undefined) return m.t('stats.unknown');
  if (dimension === 'year' || dimension === 'month') return m.period(value);
  if (dimension === 'country') return m.country(String(value));
  const taxonomy = DIMENSION_TAXONOMIES[dimension];
  return taxonomy ? m.label(taxonomy, String(value)) : String(value);
}

function select(m: Messages, name: string, label: string, options: { value: string; label: string }[], current: string | undefined): Html {
  const known = options.some((option) => option.value === current);
  return html`<div class="field">
    <label for="f-${name}">${label}</label>
    <select id="f-${name}" name="${name}" data-autosubmit>
      <option value="">${m.t('filter.any')}</option>
      ${
        current && !known
          ? html`<option value="${current}" selected>${current
              .split(',')
              .map((code) => options.find((option) => option.value === code)?.label ?? code)
              .join(', ')}</option>`
          : ''
      }
      ${options.map((option) => html`<option value="${option.value}"${option.value === current ? html` selected` : ''}>${option.label}</option>`)}
    </select>
  </div>`;
}

/** Every public filter of GET /v1/incidents that a reader would use, as a GET form. */
export function filterForm(m: Messages, query: SiteQuery, action: string, countries: string[], extra: Html | '' = ''): Html {
  const value = (name: string) => query.filterParams.get(name) ?? undefined;
  const countryOptions = [...new Set([...countries, ...(value('country') && !value('country')!.includes(',') ? [value('country')!] : [])])]
    .map((code) => ({ value: code, label: m.country(code) }))
    .sort((a, b) => a.label.localeCompare(b.label, m.intlLocale));
  const taxonomySelect = (name: keyof typeof FILTER_TAXONOMIES) => {
    const taxonomy = FILTER_TAXONOMIES[name];
    return select(
      m,
      name,
      m.t(`filter.${name}`),
      taxonomies[taxonomy].codes.map((code) => ({ value: code, label: m.label(taxonomy, code) })),
      value(name),
    );
  };
  // Filters the form has no control for (city, bbox...) are kept as they came.
  const shown = ['q', 'country', 'dateFrom', 'dateTo', ...Object.keys(FILTER_TAXONOMIES)];
  const kept = [...query.filterParams].filter(([name]) => !shown.includes(name));
  return html`<form class="filters" method="get" action="${action}" role="search" aria-labelledby="filters-heading">
  <h2 id="filters-heading">${m.t('explore.filters')}</h2>
  ${m.locale !== 'en' ? html`<input type="hidden" name="lang" value="${m.locale}">` : ''}
  ${kept.map(([name, text]) => html`<input type="hidden" name="${name}" value="${text}">`)}
  <div class="field field-wide">
    <label for="f-q">${m.t('filter.q')}</label>
    <input id="f-q" name="q" type="search" value="${value('q') ?? ''}" aria-describedby="f-q-hint" autocomplete="off">
    <p id="f-q-hint" class="hint">${m.t('filter.qHint')}</p>
  </div>
  ${select(m, 'country', m.t('filter.country'), countryOptions, value('country'))}
  <div class="field">
    <label for="f-dateFrom">${m.t('filter.dateFrom')}</label>
    <input id="f-dateFrom" name="dateFrom" value="${value('dateFrom') ?? ''}" inputmode="numeric" pattern="\\d{4}(-\\d{2}(-\\d{2})?)?" aria-describedby="f-date-hint" dir="ltr">
  </div>
  <div class="field">
    <label for="f-dateTo">${m.t('filter.dateTo')}</label>
    <input id="f-dateTo" name="dateTo" value="${value('dateTo') ?? ''}" inputmode="numeric" pattern="\\d{4}(-\\d{2}(-\\d{2})?)?" aria-describedby="f-date-hint" dir="ltr">
  </div>
  <p id="f-date-hint" class="hint field-wide">${m.t('filter.dateHint')}</p>
  ${(Object.keys(FILTER_TAXONOMIES) as (keyof typeof FILTER_TAXONOMIES)[]).map(taxonomySelect)}
  ${extra}
  <div class="actions field-wide">
    <button type="submit">${m.t('filter.apply')}</button>
    <a href="${siteHref(action, m.locale)}">${m.t('filter.clear')}</a>
  </div>
</form>`;
}

export function problemsNotice(m: Messages, query: SiteQuery): Html | '' {
  if (!query.problems.length) return '';
  return html`<div class="notice" role="status"><p>${m.t('explore.invalid')}</p><ul>${query.problems.map(
    (problem) => html`<li><code>${problem.parameter}</code>: <span lang="en">${problem.detail}</span></li>`,
  )}</ul></div>`;
}

export function placeText(m: Messages, incident: PublicIncident): string {
  return [incident.location.city, incident.location.region, m.country(incident.location.country)]
    .filter(Boolean)
    .join(m.dir === 'rtl' ? '، ' : ', ');
}

export function verificationBadge(m: Messages, status: string): Html {
  return html`<span class="badge badge-${status}">${m.label('verificationStatuses', status)}</span>`;
}

export function incidentSummary(m: Messages, incident: PublicIncident, headingLevel: 'h2' | 'h3' = 'h3'): Html {
  const heading = html`<a href="${siteHref(`/incidents/${incident.id}`, m.locale)}" dir="auto">${incident.title}</a>`;
  return html`<li class="incident-summary">
  ${headingLevel === 'h2' ? html`<h2>${heading}</h2>` : html`<h3>${heading}</h3>`}
  <p class="meta"><span>${m.incidentDate(incident.date)}</span> · <span>${placeText(m, incident)}</span> · ${incident.attackTypes.map((code) => m.label('attackTypes', code)).join(', ')} · ${verificationBadge(m, incident.verificationStatus)}</p>
</li>`;
}

export function downloads(m: Messages, query: SiteQuery, version: DataVersion): Html {
  const link = (format: 'csv' | 'json' | 'geojson') =>
    html`<li><a href="${apiHref('/v1/incidents/export', query.filterParams, { format })}" download>${m.t(`download.${format}`)}</a></li>`;
  return html`<section class="box" aria-labelledby="downloads-heading">
  <h2 id="downloads-heading">${m.t('download.title')}</h2>
  <p>${m.t('download.lead')}</p>
  <ul class="download-links">${link('csv')}${link('json')}${link('geojson')}</ul>
  <p class="hint">${m.t('download.note', { version: version.dataVersion })}</p>
</section>`;
}

export function citeBox(m: Messages, { what, url, version }: { what: string; url: string; version: DataVersion }): Html {
  const citation = m.t('cite.text', { what, version: m.number(version.dataVersion), date: m.stamp(version.dataAsOf), url });
  return html`<section class="box cite" aria-labelledby="cite-heading">
  <h2 id="cite-heading">${m.t('cite.title')}</h2>
  <dl>
    <dt>${m.t('cite.version')}</dt><dd>${m.number(version.dataVersion)}</dd>
    <dt>${m.t('cite.date')}</dt><dd><time datetime="${version.dataAsOf}">${m.stamp(version.dataAsOf)}</time></dd>
    <dt>${m.t('cite.url')}</dt><dd><a href="${url}" dir="ltr">${url}</a></dd>
  </dl>
  <label for="citation">${m.t('cite.suggested')}</label>
  <textarea id="citation" readonly rows="3">${citation}</textarea>
  <button type="button" class="copy-citation" data-copy="citation" data-copied="${m.t('cite.copied')}" hidden>${m.t('cite.copy')}</button>
  <p class="copy-status" role="status" aria-live="polite"></p>
</section>`;
}

export interface TableColumn<Row> {
  header: string;
  cell: (row: Row) => string | Html;
  numeric?: boolean;
}

/** A data table with a caption and header cells scoped to their column; the first column heads each row. */
export function dataTable<Row>(caption: string, columns: TableColumn<Row>[], rows: Row[], footer?: (string | Html)[]): Html {
  return html`<div class="table-wrap"><table>
  <caption>${caption}</caption>
  <thead><tr>${columns.map((column) => html`<th scope="col"${column.numeric ? html` class="num"` : ''}>${column.header}</th>`)}</tr></thead>
  <tbody>${rows.map(
    (row) =>
      html`<tr>${columns.map((column, index) =>
        index === 0
          ? html`<th scope="row">${column.cell(row)}</th>`
          : html`<td${column.numeric ? html` class="num"` : ''}>${column.cell(row)}</td>`,
      )}</tr>`,
  )}</tbody>
  ${footer ? html`<tfoot><tr>${footer.map((cell, index) => (index === 0 ? html`<th scope="row">${cell}</th>` : html`<td class="num">${cell}</td>`))}</tr></tfoot>` : ''}
</table></div>`;
}
