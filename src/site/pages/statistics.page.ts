import { DIMENSIONS, type Dimension } from '../../statistics/statistics.schemas.ts';
import type { GroupRow } from '../../statistics/statistics.types.ts';
import { barChart, timeChart, type Bar } from '../charts.ts';
import { citeBox, dataTable, dimensionValue, downloads, filterForm, problemsNotice } from '../components.ts';
import { html, type Html } from '../html.ts';
import type { Messages } from '../i18n.ts';
import { page, type PageContext } from '../layout.ts';
import type { SiteData } from '../site-data.ts';
import { apiHref, siteHref, type SiteQuery } from '../site-query.ts';
import { worldMap } from '../world-map.ts';

/** The most columns a cross-tab shows; GET /v1/stats (the CSV link) has them all. */
const MAX_COLUMNS = 30;

function bars(m: Messages, dimension: Dimension, groups: GroupRow[]): Bar[] {
  return groups
    .map((group) => {
      const code = (group[dimension] ?? null) as string | null;
      return { code, label: dimensionValue(m, dimension, code), value: Number(group.incidents) };
    })
    .filter((bar) => bar.value > 0)
    .sort((a, b) => b.value - a.value || a.label.localeCompare(b.label, m.intlLocale));
}

function countsTable(m: Messages, caption: string, dimension: Dimension, groups: GroupRow[]): Html {
  return dataTable(
    caption,
    [
      { header: m.t(`dim.${dimension}`), cell: (group) => dimensionValue(m, dimension, group[dimension]) },
      { header: m.t('col.incidents'), cell: (group) => m.number(group.incidents), numeric: true },
      { header: m.t('col.victims'), cell: (group) => m.number(group.victims), numeric: true },
      { header: m.t('col.killed'), cell: (group) => m.number(group.victimsKilled), numeric: true },
    ],
    groups,
  );
}

function section(id: string, title: string, chart: Html, table: Html, csvHref: string, m: Messages, open = false): Html {
  return html`<section class="chart-block" aria-labelledby="${id}-heading" id="${id}">
  <h2 id="${id}-heading">${title}</h2>
  <figure class="chart">${chart}</figure>
  <details${open ? html` open` : ''}><summary>${m.t('stats.table')}</summary>${table}</details>
  <p><a href="${csvHref}" download>${m.t('stats.csv')}</a></p>
</section>`;
}

export async function statisticsPage(context: PageContext, data: SiteData, query: SiteQuery, absoluteUrl: string): Promise<string> {
  const { m, version } = context;
  const { filters, filterParams, interval, rows, cols } = query;
  const v = version.dataVersion;
  const [time, byCountry, byAttack, byActor, crossTab, countries] = await Promise.all([
    data.counts(v, [interval], filters),
    data.counts(v, ['country'], filters),
    data.counts(v, ['attackType'], filters),
    data.counts(v, ['actorType'], filters),
    data.counts(v, [rows, cols], filters),
    data.countries(v),
  ]);
  const csv = (groupBy: string) => apiHref('/v1/stats', filterParams, { groupBy, format: 'csv' });
  const totals = time.totals;

  const choose = (name: string, label: string, current: string, options: readonly string[]) => html`<div class="field">
    <label for="f-${name}">${label}</label>
    <select id="f-${name}" name="${name}" data-autosubmit>${options.map((option) => html`<option value="${option}"${option === current ? html` selected` : ''}>${m.t(`dim.${option}`)}</option>`)}</select>
  </div>`;
  const extra = html`<fieldset class="field-wide stats-options"><legend>${m.t('stats.title')}</legend>
    ${choose('interval', m.t('stats.interval'), interval, ['year', 'month'])}
    ${choose('rows', m.t('stats.rows'), rows, DIMENSIONS)}
    ${choose('cols', m.t('stats.cols'), cols, DIMENSIONS)}
  </fieldset>`;
  const siteParams = new URLSearchParams(filterParams);
  if (interval !== 'year') siteParams.set('interval', interval);
  if (rows !== 'year') siteParams.set('rows', rows);
  if (cols !== 'attackType') siteParams.set('cols', cols);

  if (totals.incidents === 0) {
    const body = html`<h1>${m.t('stats.title')}</h1>${problemsNotice(m, query)}
      <div class="layout-sidebar"><div class="sidebar">${filterForm(m, query, '/statistics', countries, extra)}</div>
      <div class="content"><p role="status">${m.t('stats.empty')}</p></div></div>`;
    return page(context, { title: m.t('stats.title'), section: 'statistics', body });
  }

  const timeTitle = m.t(interval === 'year' ? 'stats.byYear' : 'stats.byMonth');
  const periods = time.groups
    .filter((group) => group[interval] !== null)
    .map((group) => ({ label: m.period(group[interval]!), value: Number(group.incidents) }));

  const countryCounts = new Map(
    byCountry.groups.filter((group) => group.country).map((group) => [String(group.country), Number(group.incidents)]),
  );
  const countryTitle = m.t('stats.byCountry');
  const countryBars = bars(m, 'country', byCountry.groups);
  // Shown twice (under the map and under the bars), built once.
  const countryTable = countsTable(m, countryTitle, 'country', byCountry.groups);
  const mapSummary = countryBars
    .slice(0, 10)
    .map((bar) => `${bar.label} ${m.number(bar.value)}`)
    .join(', ');
  const map = worldMap(m, countryCounts, m.t('stats.mapLabel', { summary: mapSummary }));

  const attackTitle = m.t('stats.byAttackType');
  const actorTitle = m.t('stats.byActorType');

  const rowValues = [...new Map(crossTab.groups.map((group) => [JSON.stringify(group[rows] ?? null), group[rows] ?? null])).values()];
  const colValues = [...new Map(crossTab.groups.map((group) => [JSON.stringify(group[cols] ?? null), group[cols] ?? null])).values()].slice(
    0,
    MAX_COLUMNS,
  );
  const cell = new Map(
    crossTab.groups.map((group) => [JSON.stringify([group[rows] ?? null, group[cols] ?? null]), Number(group.incidents)]),
  );
  const crossCaption = `${m.t(`dim.${rows}`)} × ${m.t(`dim.${cols}`)} (${m.t('col.incidents')})`;

  const body = html`
<h1>${m.t('stats.title')}</h1>
<p class="lead">${m.t('stats.lead')}</p>
${problemsNotice(m, query)}
<div class="layout-sidebar">
<div class="sidebar">${filterForm(m, query, '/statistics', countries, extra)}</div>
<div class="content">
<p class="totals" role="status">${m.t('stats.totals', { incidents: totals.incidents, victims: totals.victims, killed: m.number(totals.victimsKilled) })}</p>
<p><a href="${siteHref('/explore', m.locale, filterParams)}">${m.t('explore.listLink')}</a> · ${m.t('data.version', { version: m.number(v), date: m.stamp(version.dataAsOf) })}</p>

${section('time', timeTitle, timeChart(m, periods, m.t('stats.chartLabel', { title: timeTitle })), countsTable(m, timeTitle, interval, time.groups), csv(interval), m)}

<section class="chart-block" aria-labelledby="map-heading" id="map">
  <h2 id="map-heading">${m.t('stats.map')}</h2>
  <div class="map-row">
    <figure class="chart map">${map.svg}</figure>
    <div class="not-on-map">
      ${
        map.notOnMap.length
          ? dataTable(
              m.t('stats.notOnMap'),
              [
                { header: m.t('dim.country'), cell: (row) => m.country(row.code) },
                { header: m.t('col.why'), cell: (row) => m.t(row.reason === 'historical' ? 'map.historical' : 'map.tooSmall') },
                { header: m.t('col.incidents'), cell: (row) => m.number(row.count), numeric: true },
              ],
              map.notOnMap,
            )
          : html`<p class="hint">${m.t('stats.noneNotOnMap')}</p>`
      }
      <p class="hint">${m.t('stats.notOnMapLead')}</p>
    </div>
  </div>
  <details><summary>${m.t('stats.table')}</summary>${countryTable}</details>
  <p><a href="${csv('country')}" download>${m.t('stats.csv')}</a></p>
</section>

${section('countries', countryTitle, barChart(m, countryBars, { label: m.t('stats.chartLabel', { title: countryTitle }) }), countryTable, csv('country'), m)}
${section('attack-types', attackTitle, barChart(m, bars(m, 'attackType', byAttack.groups), { label: m.t('stats.chartLabel', { title: attackTitle }), taxonomy: 'attackTypes' }), countsTable(m, attackTitle, 'attackType', byAttack.groups), csv('attackType'), m)}
${section('actor-types', actorTitle, barChart(m, bars(m, 'actorType', byActor.groups), { label: m.t('stats.chartLabel', { title: actorTitle }), taxonomy: 'actorTypes' }), countsTable(m, actorTitle, 'actorType', byActor.groups), csv('actorType'), m)}

<section class="chart-block" aria-labelledby="crosstab-heading" id="crosstab">
  <h2 id="crosstab-heading">${m.t('stats.crossTab')}</h2>
  <p>${m.t('stats.crossTabLead')}</p>
  ${dataTable(
    crossCaption,
    [
      { header: `${m.t(`dim.${rows}`)} \\ ${m.t(`dim.${cols}`)}`, cell: (value) => dimensionValue(m, rows, value) },
      ...colValues.map((colValue) => ({
        header: dimensionValue(m, cols, colValue),
        cell: (rowValue: string | number | null) => m.number(cell.get(JSON.stringify([rowValue, colValue])) ?? 0),
        numeric: true,
      })),
    ],
    rowValues,
  )}
  <p><a href="${csv(`${rows},${cols}`)}" download>${m.t('stats.csv')}</a></p>
</section>

${downloads(m, query, version)}
${citeBox(m, { what: m.t('cite.whatStatistics'), url: absoluteUrl, version })}
</div>
</div>`;
  return page(context, { title: m.t('stats.title'), section: 'statistics', body, feedParams: filterParams });
}
