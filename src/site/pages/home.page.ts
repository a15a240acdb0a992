import { incidentFiltersSchema } from '../../incidents/incident-filters.ts';
import { timeChart } from '../charts.ts';
import { dataTable, incidentSummary } from '../components.ts';
import { html } from '../html.ts';
import { page, type PageContext } from '../layout.ts';
import type { SiteData } from '../site-data.ts';
import { apiHref, siteHref } from '../site-query.ts';

/** Headline figures for this year and all time, the latest incidents, and the trend per year. */
export async function homePage(context: PageContext, data: SiteData): Promise<string> {
  const { m, version } = context;
  const year = new Date().getUTCFullYear();
  const allTime = incidentFiltersSchema.parse({});
  const thisYear = incidentFiltersSchema.parse({ dateFrom: String(year), dateTo: String(year), dateMatch: 'within' });
  const [all, current, trend, latest] = await Promise.all([
    data.counts(version.dataVersion, [], allTime),
    data.counts(version.dataVersion, [], thisYear),
    data.counts(version.dataVersion, ['year'], allTime),
    data.page(version.dataVersion, allTime, undefined, 5),
  ]);
  const figures = (heading: string, totals: { incidents: number; victims: number; victimsKilled: number }, id: string) => html`
  <section class="figures" aria-labelledby="${id}">
    <h2 id="${id}">${heading}</h2>
    <dl>
      <div><dt>${m.t('figure.incidents')}</dt><dd>${m.number(totals.incidents)}</dd></div>
      <div><dt>${m.t('figure.victims')}</dt><dd>${m.number(totals.victims)}</dd></div>
      <div><dt>${m.t('figure.killed')}</dt><dd>${m.number(totals.victimsKilled)}</dd></div>
    </dl>
  </section>`;
  const periods = trend.groups
    .filter((group) => group.year !== null)
    .map((group) => ({ label: m.period(group.year!), value: Number(group.incidents) }));
  const trendTitle = m.t('home.trend');
  const body = html`
<h1>${m.t('home.title')}</h1>
<p class="lead">${m.t('home.lead')}</p>
<p class="version">${m.t('data.version', { version: m.number(version.dataVersion), date: m.stamp(version.dataAsOf) })}</p>
<div class="figure-row">
  ${figures(m.t('home.thisYear', { year: m.period(year) }), current.totals, 'this-year')}
  ${figures(m.t('home.allTime'), all.totals, 'all-time')}
</div>
<section aria-labelledby="latest-heading">
  <h2 id="latest-heading">${m.t('home.latest')}</h2>
  <ul class="incident-list">${latest.incidents.map((incident) => incidentSummary(m, incident))}</ul>
  <p><a class="button" href="${siteHref('/explore', m.locale)}">${m.t('home.exploreAll')}</a></p>
</section>
<section class="chart-block" aria-labelledby="trend-heading">
  <h2 id="trend-heading">${trendTitle}</h2>
  ${periods.length ? html`<figure class="chart">${timeChart(m, periods, m.t('stats.chartLabel', { title: trendTitle }))}</figure>` : html`<p>${m.t('stats.empty')}</p>`}
  <details>
    <summary>${m.t('stats.table')}</summary>
    ${dataTable(
      trendTitle,
      [
        { header: m.t('dim.year'), cell: (group) => m.period(group.year ?? '') || m.t('stats.unknown') },
        { header: m.t('col.incidents'), cell: (group) => m.number(group.incidents), numeric: true },
        { header: m.t('col.victims'), cell: (group) => m.number(group.victims), numeric: true },
        { header: m.t('col.killed'), cell: (group) => m.number(group.victimsKilled), numeric: true },
      ],
      trend.groups,
    )}
  </details>
  <p><a href="${apiHref('/v1/stats', new URLSearchParams(), { groupBy: 'year', format: 'csv' })}" download>${m.t('stats.csv')}</a></p>
</section>`;
  return page(context, { title: m.t('home.title'), section: 'home', body, feedParams: new URLSearchParams() });
}
