import type { Actor } from '../auth/actor.ts';
import { ValidationError } from '../errors.ts';
import { assertFiltersAllowed, incidentFiltersSchema, type IncidentFilters } from '../incidents/incident-filters.ts';

/**
 * An endpoint's filter is the list's query string ("country=SY&victimOutcome=killed"), parsed
 * by the list's own schema and later compiled by the one filter compiler (matchesFilters), so
 * a webhook selects exactly the incidents the list would.
 */
export function parseWebhookFilter(text: string, actor: Actor, pointer = '/filter'): IncidentFilters {
  const params = new URLSearchParams(text.startsWith('?') ? text.slice(1) : text);
  const values: Record<string, string> = {};
  const errors: { pointer: string; detail: string }[] = [];
  for (const [name, value] of params) {
    if (name in values) errors.push({ pointer, detail: `${name}: give a parameter once (a comma-separated list for several values)` });
    values[name] = value;
  }
  const parsed = incidentFiltersSchema.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const names = issue.code === 'unrecognized_keys' ? issue.keys : [String(issue.path[0] ?? '')];
      for (const name of names)
        errors.push({ pointer, detail: `${name}: ${issue.code === 'unrecognized_keys' ? 'unknown parameter' : issue.message}` });
    }
  }
  if (errors.length) throw new ValidationError('The request body is not valid.', errors);
  try {
    assertFiltersAllowed(parsed.data!, actor);
  } catch (error) {
    if (error instanceof ValidationError)
      throw new ValidationError(
        'The request body is not valid.',
        error.errors.map((e) => ({ pointer, detail: `${e.parameter}: ${e.detail}` })),
      );
    throw error;
  }
  return parsed.data!;
}
