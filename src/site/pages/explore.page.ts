import { citeBox, downloads, filterForm, incidentSummary, problemsNotice } from '../components.ts';
import { html } from '../html.ts';
import { page, type PageContext } from '../layout.ts';
import type { SiteData } from '../site-data.ts';
import { siteHref, type SiteQuery } from '../site-query.ts';

export const EXPLORE_PAGE_SIZE = 20;

/** The list with every public filter as a form; the URL carries the filters and the page. */
export async function explorePage(context: PageContext, data: SiteData, query: SiteQuery, absoluteUrl: string): Promise<string> {
  const { m, version } = context;
  const [result, countries] = await Promise.all([
    data.page(version.dataVersion, query.filters, query.cursor, EXPLORE_PAGE_SIZE),
    data.countries(version.dataVersion),
  ]);
  const nextParams = new URLSearchParams(query.filterParams);
  if (result.next) nextParams.set('cursor', result.next);
  const body = html`
<h1>${m.t('explore.title')}</h1>
${problemsNotice(m, query)}
<div class="layout-sidebar">
  <div class="sidebar">${filterForm(m, query, '/explore', countries)}</div>
  <div class="content">
    <p class="result-count" role="status">${m.t('explore.results', { count: result.total })}</p>
    <p><a href="${siteHref('/statistics', m.locale, query.filterParams)}">${m.t('explore.statsLink')}</a></p>
    <ul class="incident-list" id="results">${result.incidents.map((incident) => incidentSummary(m, incident, 'h2'))}</ul>
    <nav class="pagination" aria-label="${m.t('explore.pagination')}"><ul>
      ${query.cursor ? html`<li><a href="${siteHref('/explore', m.locale, query.filterParams)}">${m.t('explore.first')}</a></li>` : ''}
      ${result.next ? html`<li><a rel="next" href="${siteHref('/explore', m.locale, nextParams)}">${m.t('explore.next')}</a></li>` : ''}
    </ul></nav>
    ${downloads(m, query, version)}
    ${citeBox(m, { what: m.t('cite.whatIncidents'), url: absoluteUrl, version })}
  </div>
</div>`;
  return page(context, { title: m.t('explore.title'), section: 'explore', body, feedParams: query.filterParams });
}
