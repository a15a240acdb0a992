import * as echarts from 'echarts';
import { escapeHtml, raw, type Html } from './html.ts';
import type { Messages } from './i18n.ts';
import { colourFor, SINGLE_COLOUR } from './palette.ts';
import type * as taxonomies from '../incidents/taxonomies.ts';

/**
 * Charts are Apache ECharts rendered on the server to SVG strings, so they need no JavaScript
 * in the browser and no chart code is shipped. The SVG is tidied for the page's CSP and for
 * screen readers: no <style> block, no style attributes (presentation attributes instead),
 * role="img" with a label (the same numbers are always in a table next to the chart).
 */
export interface Bar {
  code: string | null;
  label: string;
  value: number;
}

const FONT = 'system-ui, sans-serif';

function render(
  option: echarts.EChartsOption,
  width: number,
  height: number,
  transform?: (chart: echarts.ECharts, svg: string) => string,
): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: FONT, color: '#222222' }, ...option });
    const svg = chart.renderToSVGString();
    return transform ? transform(chart, svg) : svg;
  } finally {
    chart.dispose();
  }
}

/** Removes what a strict CSP would refuse and what only ECharts' client runtime uses. */
export function tidySvg(svg: string, label: string): Html {
  const tidy = svg
    .replace(/<style\b[\s\S]*?<\/style>/g, '')
    .replace(/\s(class|ecmeta_[a-z_]+)="[^"]*"/g, '')
    .replace(/\sstyle="([^"]*)"/g, (_match, declarations: string) =>
      declarations
        .split(';')
        .map((declaration) => declaration.split(':').map((part) => part.trim()))
        .filter(([name, value]) => name && value && /^[a-z-]+$/.test(name))
        .map(([name, value]) => ` ${name}="${value!.replace(/"/g, '&quot;')}"`)
        .join(''),
    )
    .replace(/^<svg\b/, `<svg role="img" aria-label="${escapeHtml(label)}" focusable="false" direction="ltr"`);
  return raw(tidy);
}

function truncate(text: string, length = 26): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/** Horizontal bars, largest first, coloured per code of `taxonomy` (one colour without). */
export function barChart(m: Messages, bars: Bar[], { label, taxonomy }: { label: string; taxonomy?: keyof typeof taxonomies }): Html {
  const rtl = m.dir === 'rtl';
  const shown = bars.slice(0, 15).toReversed(); // ECharts draws the first category at the bottom
  const height = Math.max(120, 40 + shown.length * 28);
  const svg = render(
    {
      grid: { left: rtl ? 50 : 190, right: rtl ? 190 : 50, top: 10, bottom: 30 },
      xAxis: { type: 'value', inverse: rtl, minInterval: 1, axisLabel: { formatter: (value: number) => m.number(value) } },
      yAxis: {
        type: 'category',
        position: rtl ? 'right' : 'left',
        data: shown.map((bar) => truncate(bar.label)),
        axisLabel: { color: '#222222', fontSize: 13 },
      },
      series: [
        {
          type: 'bar',
          barMaxWidth: 22,
          label: { show: true, position: rtl ? 'left' : 'right', color: '#222222', formatter: (params) => m.number(Number(params.value)) },
          data: shown.map((bar) => {
            const { color, decal } = taxonomy ? colourFor(taxonomy, bar.code) : { color: SINGLE_COLOUR, decal: undefined };
            return { value: bar.value, itemStyle: { color, ...(decal ? { decal } : {}) } };
          }),
        },
      ],
    },
    720,
    height,
  );
  return tidySvg(svg, label);
}

/** Incidents per period as columns, the time axis running with the reading direction. */
export function timeChart(m: Messages, periods: { label: string; value: number }[], label: string): Html {
  const rtl = m.dir === 'rtl';
  const labelled = periods.length <= 24;
  const svg = render(
    {
      grid: { left: rtl ? 20 : 60, right: rtl ? 60 : 20, top: 20, bottom: 50 },
      xAxis: {
        type: 'category',
        inverse: rtl,
        data: periods.map((period) => period.label),
        axisLabel: { color: '#222222', hideOverlap: true },
      },
      yAxis: {
        type: 'value',
        position: rtl ? 'right' : 'left',
        minInterval: 1,
        axisLabel: { formatter: (value: number) => m.number(value) },
      },
      series: [
        {
          type: 'bar',
          barMaxWidth: 40,
          itemStyle: { color: SINGLE_COLOUR },
          label: { show: labelled, position: 'top', color: '#222222', formatter: (params) => m.number(Number(params.value)) },
          // Without labels a period with no incident has nothing to draw: '-' (ECharts' empty value)
          // spares a zero-height bar, which halves the drawing of a series from dateFrom=1900.
          data: periods.map((period) => (period.value === 0 && !labelled ? '-' : period.value)),
        },
      ],
    },
    720,
    300,
  );
  return tidySvg(svg, label);
}

export { render as renderChart };
