import type { Response } from 'express';

/**
 * Sends `{"data":[...items], ...rest}` where the items are JSON text already (stored documents,
 * src/incidents/incident-documents.ts): spliced in as they are, not parsed and serialised again,
 * which is most of what a list page of 50 incidents would otherwise cost.
 */
export function sendJsonWithItems(res: Response, items: readonly string[], rest: Record<string, unknown>): void {
  const members = JSON.stringify(rest);
  res.type('json').send(`{"data":[${items.join(',')}]${members === '{}' ? '' : `,${members.slice(1, -1)}`}}`);
}
