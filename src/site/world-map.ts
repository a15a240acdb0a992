import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as echarts from 'echarts';
import type { FeatureCollection, Geometry } from 'geojson';
import countries from 'i18n-iso-countries';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import { escapeHtml, raw, type Html } from './html.ts';
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
 * The country outlines never change, so ECharts draws them once (on first use), each country
 * filled with a marker colour, and that SVG is kept split around every country's fill: a
 * request only puts in the shades and the titles, well under a millisecond where drawing the
 * ~180 shapes took 35-150 ms at a million incidents. The legend is kept the same way, drawn once
 * per writing direction and set of shades with marker labels. Both are ECharts' drawing,
 * reused; no shape is drawn by hand.
 */
const MAP_WIDTH = 800;
const MAP_HEIGHT = 400;
const FILL_MARK = '#010203'; // a colour no shade uses: where a country's fill goes
const LABEL_MARK = '\uE000'; // private-use characters, never in a label: where the aria-label goes
const SHAPE_MARK = '\uE001'; // around a country's index, where its path goes
const LEGEND_MARK = 0xe010; // the legend's n-th label is drawn as the character LEGEND_MARK + n

/** A country's path split at its fill: `${head}${shade}${tail}<title>…</title></path>`. */
interface Outline {
  code: string;
  head: string;
  tail: string;
}

interface Outlines {
  /** The <svg> tag before and after its aria-label. */
  open: [string, string];
  /** In drawing order: countries to shade, and what lies between them (shapes without a code). */
  shapes: (Outline | string)[];
  close: string;
}

let outlines: Outlines | undefined;

function drawOutlines(): Outlines {
  const found: { code: string; path: string }[] = [];
  const svg = renderChart(
    {
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
          // Shapes without a code are never shaded: they keep areaColor.
          data: shapes.map((shape) => ({ name: shape.code, itemStyle: shape.code.startsWith('~') ? {} : { areaColor: FILL_MARK } })),
        },
      ],
    },
    MAP_WIDTH,
    MAP_HEIGHT,
    // The map series' data follows `shapes`, so data index i is shapes[i].
    (_chart, text) =>
      text.replace(/<path[^>]* ecmeta_series_index="0" ecmeta_data_index="(\d+)"[^>]*><\/path>/g, (path, index: string) => {
        const code = shapes[Number(index)]!.code;
        if (code.startsWith('~')) return path;
        found.push({ code, path });
        return `${SHAPE_MARK}${found.length - 1}${SHAPE_MARK}`;
      }),
  );
  const parts = tidySvg(svg, LABEL_MARK).value.split(new RegExp(`${SHAPE_MARK}(\\d+)${SHAPE_MARK}`));
  const shapeParts = parts.slice(1, -1).map((part, index): Outline | string => {
    if (index % 2 === 1) return part;
    const { code, path } = found[Number(part)]!;
    const [head, tail] = tidySvg(path, '').value.split(` fill="${FILL_MARK}"`);
    if (tail === undefined || !tail.endsWith('></path>')) throw new Error(`ECharts drew ${code} on the world map unlike expected: ${path}`);
    return { code, head: `${head} fill="`, tail: `"${tail.slice(0, -'></path>'.length)} data-country="${code}">` };
  });
  const [before, after] = parts[0]!.split(LABEL_MARK);
  const last = parts.at(-1)!;
  const closeAt = last.lastIndexOf('</svg>');
  if (after === undefined || closeAt < 0 || found.length !== CODES_ON_MAP.size)
    throw new Error('ECharts drew the world map unlike expected');
  return { open: [before!, after], shapes: [...shapeParts, `${last.slice(0, closeAt).trimEnd()}\n`], close: last.slice(closeAt) };
}

interface Piece {
  min: number;
  max: number;
  color: string;
  label: string;
}

/**
 * The legend as ECharts draws it for these shades, split at its labels (odd parts: the label's
 * index). The items' places depend only on how many there are and the writing direction, not on
 * the labels' widths (only the legend's invisible background box is sized by them). A handful of
 * entries: one per direction and number of bands.
 */
const legends = new Map<string, string[]>();

function legendParts(rtl: boolean, pieces: Piece[]): string[] {
  const key = JSON.stringify([rtl, pieces.map((piece) => piece.color)]);
  let parts = legends.get(key);
  if (!parts) {
    const svg = renderChart(
      {
        visualMap: {
          type: 'piecewise',
          pieces: pieces.map((piece, index) => ({ ...piece, label: String.fromCharCode(LEGEND_MARK + index) })),
          orient: 'vertical',
          left: rtl ? undefined : 10,
          right: rtl ? 10 : undefined,
          bottom: 10,
          itemWidth: 18,
          itemHeight: 12,
          itemSymbol: 'rect',
          textStyle: { color: '#222222' },
        },
      },
      MAP_WIDTH,
      MAP_HEIGHT,
    );
    const tidy = tidySvg(svg, '').value;
    // What follows the background <rect> and precedes </svg>: the legend alone.
    const body = `${tidy.slice(tidy.indexOf('</rect>') + '</rect>'.length, tidy.lastIndexOf('</svg>')).trim()}\n\n`;
    parts = body.split(/([\uE010-\uE01F])/).map((part, index) => (index % 2 === 1 ? String(part.charCodeAt(0) - LEGEND_MARK) : part));
    legends.set(key, parts);
  }
  return parts;
}

/** Country names per language, escaped once: asking Intl for ~180 names was a third of a map's time. */
const escapedNames = new WeakMap<Messages, Map<string, string>>();

function escapedName(m: Messages, code: string): string {
  let names = escapedNames.get(m);
  if (!names) escapedNames.set(m, (names = new Map()));
  let name = names.get(code);
  if (name === undefined) names.set(code, (name = escapeHtml(m.country(code))));
  return name;
}

export function worldMap(m: Messages, counts: Map<string, number>, label: string): { svg: Html; notOnMap: NotOnMap[] } {
  const max = Math.max(0, ...[...counts].filter(([code]) => CODES_ON_MAP.has(code)).map(([, count]) => count));
  const pieces: Piece[] = [
    { min: 0, max: 0, color: MAP_SHADES[0]!, label: m.number(0) },
    ...bands(max).map((band, index, all) => ({
      ...band,
      color: MAP_SHADES[Math.min(MAP_SHADES.length - 1, index + 1 + (4 - all.length > 0 && all.length < 4 ? 4 - all.length : 0))]!,
      label: band.min === band.max ? m.number(band.min) : `${m.number(band.min)}–${m.number(band.max)}`,
    })),
  ];
  const shade = (count: number) => pieces.find((piece) => count >= piece.min && count <= piece.max)?.color ?? MAP_SHADES[0]!;
  outlines ??= drawOutlines();

  let svg = `${outlines.open[0]}${escapeHtml(label)}${outlines.open[1]}`;
  for (const part of outlines.shapes) {
    if (typeof part === 'string') {
      svg += part;
      continue;
    }
    const count = counts.get(part.code) ?? 0;
    // A title: browsers show the name and count on hover, without any script.
    svg += `${part.head}${shade(count)}${part.tail}<title>${escapedName(m, part.code)}: ${escapeHtml(m.number(count))}</title></path>`;
  }
  legendParts(m.dir === 'rtl', pieces).forEach((part, index) => {
    svg += index % 2 === 1 ? escapeHtml(pieces[Number(part)]!.label) : part;
  });
  svg += outlines.close;

  const notOnMap: NotOnMap[] = [...counts]
    .filter(([code, count]) => count > 0 && !CODES_ON_MAP.has(code))
    .map(([code, count]) => ({ code, count, reason: code.length === 4 ? ('historical' as const) : ('tooSmall' as const) }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  return { svg: raw(svg), notOnMap };
}
