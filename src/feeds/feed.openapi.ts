import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { feedQuerySchema } from './feed.schemas.ts';

type Response = { description: string; content?: Record<string, { schema: z.ZodType }> };

/** GET /v1/incidents/feed.atom for the OpenAPI document; openapi.document.ts passes its shared problems. */
export function registerFeedPaths(registry: OpenAPIRegistry, { errors }: { errors: Record<number, Response> }) {
  registry.registerPath({
    method: 'get',
    path: '/v1/incidents/feed.atom',
    operationId: 'getIncidentFeed',
    tags: ['incidents'],
    security: [{}],
    summary: 'Atom feed of published incidents matching the filters, newest change first',
    description:
      'Every public filter of the list (hasProtectedVictims aside), through the same filter compiler; always the public view. ' +
      'An entry per published incident (`id` a stable tag: URI, `updated` the time of its last change, `content` the public record ' +
      'as HTML with a link to /incidents/{id}), most recently changed first. Incidents that left the public view (unpublished, deleted, merged) ' +
      'appear as RFC 6721 tombstones (`at:deleted-entry`); tombstones are not narrowed by the filters (the withdrawn record is no longer public), ' +
      'only by updatedSince. Weak ETag on the data version; send If-None-Match for 304.',
    request: { query: feedQuerySchema },
    responses: {
      200: {
        description: 'An Atom 1.0 feed (RFC 4287).',
        content: { 'application/atom+xml': { schema: z.string().describe('Atom XML') } },
      },
      304: { description: 'Unchanged since the ETag you sent.' },
      400: errors[400]!,
      429: errors[429]!,
    },
  });
}
