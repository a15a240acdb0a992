import * as taxonomies from '../incidents/taxonomies.ts';

/**
 * Chart colours, stable per code across pages: a code's colour is fixed by its place in its
 * taxonomy (taxonomies.ts), never by its rank in one chart. Neighbouring colours alternate dark
 * and light, and each comes with its own decal pattern, so bars stay distinguishable in
 * greyscale and for colour-blind readers.
 */
const COLOURS = ['#1f4e79', '#e39b2b', '#6b2d5c', '#7cc4b4', '#8c2f1b', '#c9c25a', '#2e6b3a', '#b7a7d6', '#4a4a4a', '#e8a3a3'];

type Decal = {
  symbol: string;
  symbolSize: number;
  dashArrayX: number[] | number[][];
  dashArrayY: number[];
  rotation: number;
  color: string;
};
const DECALS: Decal[] = [
  { symbol: 'rect', symbolSize: 1, dashArrayX: [1, 0], dashArrayY: [2, 5], rotation: Math.PI / 4, color: 'rgba(255,255,255,0.35)' },
  {
    symbol: 'circle',
    symbolSize: 0.8,
    dashArrayX: [
      [6, 6],
      [0, 6, 6, 0],
    ],
    dashArrayY: [6, 0],
    rotation: 0,
    color: 'rgba(0,0,0,0.3)',
  },
  { symbol: 'rect', symbolSize: 1, dashArrayX: [1, 0], dashArrayY: [2, 5], rotation: -Math.PI / 4, color: 'rgba(255,255,255,0.35)' },
  { symbol: 'rect', symbolSize: 1, dashArrayX: [1, 0], dashArrayY: [4, 3], rotation: 0, color: 'rgba(0,0,0,0.25)' },
  { symbol: 'rect', symbolSize: 1, dashArrayX: [[1, 4]], dashArrayY: [1, 0], rotation: 0, color: 'rgba(255,255,255,0.35)' },
];

export const SINGLE_COLOUR = COLOURS[0]!;

type TaxonomyName = keyof typeof taxonomies;

export function colourFor(taxonomy: TaxonomyName | undefined, code: string | null): { color: string; decal: Decal | undefined } {
  if (!taxonomy || code === null) return { color: code === null ? '#9a9a9a' : SINGLE_COLOUR, decal: undefined };
  const index = (taxonomies[taxonomy].codes as readonly string[]).indexOf(code);
  if (index < 0) return { color: '#9a9a9a', decal: undefined };
  return { color: COLOURS[index % COLOURS.length]!, decal: DECALS[index % DECALS.length] };
}

/** Map shading: white for none, then blues that darken with the count (readable in greyscale). */
export const MAP_SHADES = ['#ffffff', '#c6dbef', '#6baed6', '#2171b5', '#08306b'];
