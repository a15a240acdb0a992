import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { z } from 'zod';
import { draftSharingSchema, organisationIdParamsSchema, setDraftSharingSchema } from './draft-sharing.schemas.ts';

type Response = { description: string; content?: Record<string, { schema: z.ZodType }> };

/** Sharing of drafts: an admin key of the organisation itself (README, "Sharing and access groups"). */
export function registerDraftSharingPaths(
  registry: OpenAPIRegistry,
  { json, errors }: { json: (schema: z.ZodType, description: string) => Response; errors: Record<number, Response> },
) {
  const common = { tags: ['admin'], security: [{ apiKey: [] }] };
  registry.registerPath({
    method: 'get',
    path: '/v1/organisations/{id}/sharing',
    operationId: 'getDraftSharing',
    ...common,
    summary: 'Whom your organisation shares its drafts with (its admin)',
    request: { params: organisationIdParamsSchema },
    responses: { 200: json(draftSharingSchema, 'The setting.'), ...errors },
  });
  registry.registerPath({
    method: 'put',
    path: '/v1/organisations/{id}/sharing',
    operationId: 'setDraftSharing',
    ...common,
    summary: 'Share your drafts with no one, named organisations or all researchers (its admin)',
    description:
      'Drafts are seen by your own organisation only, unless you share them: with the researchers of the organisations you name, or of every organisation (what every researcher saw before version 0017). They see them in the research view. Published incidents are not affected. Only an admin key of this organisation may set it.',
    request: { params: organisationIdParamsSchema, body: { content: { 'application/json': { schema: setDraftSharingSchema } } } },
    responses: { 200: json(draftSharingSchema, 'The setting now.'), ...errors },
  });
}
