import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  accessGroupIdParamsSchema,
  accessGroupSchema,
  createAccessGroupSchema,
  incidentAccessSchema,
  incidentParamsSchema,
  memberParamsSchema,
  renameAccessGroupSchema,
  setAccessGroupsSchema,
  victimParamsSchema,
} from './access-group.schemas.ts';

type Response = { description: string; content?: Record<string, { schema: z.ZodType }> };
export interface AccessGroupOpenApiHelpers {
  json: (schema: z.ZodType, description: string) => Response;
  errors: Record<number, Response>;
  problem: (description: string) => Response;
}

const OUTSIDERS =
  'A key outside every group of a restricted incident sees it as a researcher of your organisation would (research view) and may not change it (403); ' +
  'a restricted protected victim is "name withheld" to it, also in the full view, and plays no part in its search, duplicates, exports or statistics.';

/** Access groups and restrictions: admin keys of the organisation (README, "Sharing and access groups"). */
export function registerAccessGroupPaths(registry: OpenAPIRegistry, { json, errors, problem }: AccessGroupOpenApiHelpers) {
  const security = [{ apiKey: [] }];
  const body = (schema: z.ZodType) => ({ body: { content: { 'application/json': { schema } } } });
  const path = (method: 'get' | 'post' | 'put' | 'patch' | 'delete', url: string, operationId: string, summary: string, rest: object) =>
    registry.registerPath({
      method,
      path: url,
      operationId,
      tags: ['access groups'],
      security,
      summary,
      description: OUTSIDERS,
      ...rest,
    } as never);

  path('get', '/v1/access-groups', 'listAccessGroups', "Your organisation's access groups (admin)", {
    responses: { 200: json(z.object({ data: z.array(accessGroupSchema) }), 'Groups with their member keys.'), ...errors },
  });
  path('post', '/v1/access-groups', 'createAccessGroup', 'Create an access group (admin)', {
    request: body(createAccessGroupSchema),
    responses: { 201: json(accessGroupSchema, 'Created.'), ...errors, 409: problem('Name taken in your organisation.') },
  });
  path('patch', '/v1/access-groups/{id}', 'renameAccessGroup', 'Rename an access group (admin)', {
    request: { params: accessGroupIdParamsSchema, ...body(renameAccessGroupSchema) },
    responses: { 200: json(accessGroupSchema, 'Renamed.'), ...errors, 409: problem('Name taken in your organisation.') },
  });
  path('delete', '/v1/access-groups/{id}', 'deleteAccessGroup', 'Delete an access group (admin)', {
    request: { params: accessGroupIdParamsSchema },
    responses: { 204: { description: 'Deleted.' }, ...errors, 409: problem('The group still restricts incidents or victims.') },
  });
  path('put', '/v1/access-groups/{id}/members/{keyId}', 'addAccessGroupMember', 'Add a key of your organisation to a group (admin)', {
    request: { params: memberParamsSchema },
    responses: { 200: json(accessGroupSchema, 'The group.'), ...errors },
  });
  path('delete', '/v1/access-groups/{id}/members/{keyId}', 'removeAccessGroupMember', 'Remove a key from a group (admin)', {
    request: { params: memberParamsSchema },
    responses: { 200: json(accessGroupSchema, 'The group.'), ...errors },
  });
  path('get', '/v1/incidents/{id}/access-groups', 'getIncidentAccessGroups', "An incident's and its victims' access groups (admin)", {
    request: { params: incidentParamsSchema },
    responses: { 200: json(incidentAccessSchema, 'The restrictions.'), ...errors },
  });
  path('put', '/v1/incidents/{id}/access-groups', 'setIncidentAccessGroups', 'Restrict an incident to access groups (admin)', {
    request: { params: incidentParamsSchema, ...body(setAccessGroupsSchema) },
    responses: { 200: json(incidentAccessSchema, 'The restrictions now.'), ...errors },
  });
  path(
    'put',
    '/v1/incidents/{id}/victims/{victimId}/access-groups',
    'setVictimAccessGroups',
    'Restrict a protected victim to access groups (admin)',
    {
      request: { params: victimParamsSchema, ...body(setAccessGroupsSchema) },
      responses: { 200: json(incidentAccessSchema, 'The restrictions now.'), ...errors, 409: problem('The victim is not protected.') },
    },
  );
}
