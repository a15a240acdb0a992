import { countryName } from '../incidents/country.ts';
import type { GroupRow } from './statistics.types.ts';
import type { Dimension } from './statistics.schemas.ts';

export type NamedGroupRow = GroupRow & { countryName?: string | null };

/**
 * Groups by country also name the country in words ("Yugoslavia" for YUCS), right after its
 * code, so a reader needs no code table and a state that no longer exists is never mistaken for
 * a current one.
 */
export function withCountryNames(groups: GroupRow[], groupBy: readonly Dimension[]): NamedGroupRow[] {
  if (!groupBy.includes('country')) return groups;
  return groups.map((group) => {
    const named: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(group)) {
      named[key] = value;
      if (key === 'country') named.countryName = typeof value === 'string' ? (countryName(value) ?? value) : null;
    }
    return named as NamedGroupRow;
  });
}
