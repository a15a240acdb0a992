import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as echarts from 'echarts';
import type { FeatureCollection, Geometry } from 'geojson';
import countries from 'i18n-iso-countries';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import { escapeHtml, type Html } from './html.ts';
import type { Messages } from './i18n.ts';
import { MAP_SHADES } from './palette.ts';
import { renderChart, tidySvg } from './charts.ts';

/**
 * The world map: Natural Earth country shapes at 1:110m from the world-atlas package
 * (TopoJSON, keyed by ISO 3166-1 numeric code), drawn by an ECharts map series. Each shape is
 * named by its alpha-2 code, the code the data uses. Kosovo has no ISO numeric code and comes
 * without an id: it is XK, as in the data. Shapes without a code (Northern Cyprus, Somaliland)
 * are drawn but never shaded. Countries that no longer exist (YUCS...) and places too small for
 * this scale are listed beside the map instead (notOnMap).
 */
const require = createRequire(import.meta.url);
const MAP_NAME = 'dateline-world';

interface Shape {
  code: string;
}

function loadShapes(): { geo: FeatureCollection<Geometry, { name: string }>; shapes: Shape[] } {
  const topology = JSON.parse(readFileSync(require.resolve('world-atlas/countries-110m.json'), 'utf8')) as Topology<{
    countries: GeometryCollection<{ name: string }>;
  }>;
  const all = feature(topology, topology.objects.countries) as FeatureCollection<Geometry, { name: string }>;
  const features = all.features
    .filter((shape) => shape.id !== '010') // Antarctica: no incidents, a fifth of the height
    .map((shape) => {
      const code =
        shape.id === undefined
          ? shape.properties.name === 'Kosovo'
            ? 'XK'
            : `~${shape.properties.name}`
          : (countries.numericToAlpha2(String(shape.id)) ?? `~${shape.properties.name}`);
      return { ...shape, geometry: withoutAntimeridianJumps(shape.geometry), properties: { name: code } };
    });
  return { geo: { type: 'FeatureCollection', features }, shapes: features.map((shape) => ({ code: shape.properties.name })) };
}

/**
 * Russia and Fiji cross the antimeridian: their rings jump from 180° to -180°, which a flat
 * projection draws as a line across the whole map. Such a ring keeps the side most of its
 * points are on, the rest pressed onto the antimeridian (a sliver of Chukotka at this scale).
 */
function withoutAntimeridianJumps(geometry: Geometry): Geometry {
  const fixRing = (ring: number[][]) => {
    if (!ring.some((point, index) => index > 0 && Math.abs(point[0]! - ring[index - 1]![0]!) > 180)) return ring;
    const east = ring.filter((point) => point[0]! > 0).length >= ring.length / 2;
    return ring.map(([lon, lat]) => [east ? (lon! < 0 ? 180 : lon!) : lon! > 0 ? -180 : lon!, lat!]);
  };
  if (geometry.type === 'Polygon') return { ...geometry, coordinates: geometry.coordinates.map(fixRing) };
  if (geometry.type === 'MultiPolygon') return { ...geometry, coordinates: geometry.coordinates.map((polygon) => polygon.map(fixRing)) };
  return geometry;
}

const { geo, shapes } = loadShapes();
echarts.registerMap(MAP_NAME, geo as unknown as Parameters<typeof echarts.registerMap>[1]);
export const CODES_ON_MAP: ReadonlySet<string> = new Set(shapes.map((shape) => shape.code).filter((code) => !code.startsWith('~')));

export interface NotOnMap {
  code: string;
  count: number;
  reason: 'historical' | 'tooSmall';
}

/** Bands of counts, each a shade darker: 1, 2, 3, 4 when few; otherwise four equal bands. */
function bands(max: number): { min: number; max: number }[] {
  if (max <= 4) return Array.from({ length: max }, (_, index) => ({ min: index + 1, max: index + 1 }));
  const width = Math.ceil(max / 4);
  return [0, 1, 2, 3]
    .map((index) => ({ min: index * width + 1, max: Math.min(max, (index + 1) * width) }))
    .filter((band) => band.min <= band.max);
}

/**
 * Drawing the ~180 shapes is most of a statistics page's time (~50 ms), and the same counts
 * come back often (the same filters after an unrelated write, other pages of readers): the
 * drawn map is kept per language and counts, in a small LRU.
 */
const drawn = new Map<string, { svg: Html; notOnMap: NotOnMap[] }>();
const DRAWN_CAPACITY = 100;

export function worldMap(m: Messages, counts: Map<string, number>, label: string): { svg: Html; notOnMap: NotOnMap[] } {
  const key = JSON.stringify([m.locale, label, [...counts].sort(([a], [b]) => a.localeCompare(b))]);
  const hit = drawn.get(key);
  if (hit) {
    drawn.delete(key);
    drawn.set(key, hit);
    return hit;
  }
  const result = drawWorldMap(m, counts, label);
  drawn.set(key, result);
  if (drawn.size > DRAWN_CAPACITY) drawn.delete(drawn.keys().next().value!);
  return result;
}

function drawWorldMap(m: Messages, counts: Map<string, number>, label: string): { svg: Html; notOnMap: NotOnMap[] } {
  const max = Math.max(0, ...[...counts].filter(([code]) => CODES_ON_MAP.has(code)).map(([, count]) => count));
  const pieces = [
    { min: 0, max: 0, color: MAP_SHADES[0]!, label: m.number(0) },
    ...bands(max).map((band, index, all) => ({
      ...band,
      color: MAP_SHADES[Math.min(MAP_SHADES.length - 1, index + 1 + (4 - all.length > 0 && all.length < 4 ? 4 - all.length : 0))]!,
      label: band.min === band.max ? m.number(band.min) : `${m.number(band.min)}–${m.number(band.max)}`,
    })),
  ];
  const rtl = m.dir === 'rtl';
  const svg = renderChart(
    {
      visualMap: {
        type: 'piecewise',
        pieces,
        orient: 'vertical',
        left: rtl ? undefined : 10,
        right: rtl ? 10 : undefined,
        bottom: 10,
        itemWidth: 18,
        itemHeight: 12,
        itemSymbol: 'rect',
        textStyle: { color: '#222222' },
        outOfRange: { color: MAP_SHADES[0] },
      },
      series: [
        {
          type: 'map',
          map: MAP_NAME,
          roam: false,
          left: 0,
          right: 0,
          top: 0,
          bottom: 0,
          itemStyle: { borderColor: '#6f6f6f', borderWidth: 0.5, areaColor: MAP_SHADES[0] },
          emphasis: { disabled: true },
          select: { disabled: true },
          label: { show: false },
          data: shapes.map((shape) => ({ name: shape.code, value: counts.get(shape.code) ?? 0 })),
        },
      ],
    },
    800,
    400,
    (_chart, text) => tagCountries(m, text, counts),
  );
  const notOnMap: NotOnMap[] = [...counts]
    .filter(([code, count]) => count > 0 && !CODES_ON_MAP.has(code))
    .map(([code, count]) => ({ code, count, reason: code.length === 4 ? ('historical' as const) : ('tooSmall' as const) }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  return { svg: tidySvg(svg, label), notOnMap };
}

/**
 * The map series' data follows `shapes`, so data index i is shapes[i]: each country's path gets
 * data-country="XX" (what the tests look for) and a <title> with its name and count, which
 * browsers show on hover without any script.
 */
function tagCountries(m: Messages, svg: string, counts: Map<string, number>): string {
  return svg.replace(
    /<path([^>]*?) ecmeta_series_index="0" ecmeta_data_index="(\d+)"([^>]*)><\/path>/g,
    (match, before: string, index: string, after: string) => {
      const code = shapes[Number(index)]?.code;
      if (!code || code.startsWith('~')) return match;
      const title = `${m.country(code)}: ${m.number(counts.get(code) ?? 0)}`;
      return `<path${before} data-country="${code}"${after}><title>${escapeHtml(title)}</title></path>`;
    },
  );
}
