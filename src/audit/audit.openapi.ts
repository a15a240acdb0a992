import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { z } from 'zod';
import { auditFeedQuerySchema, auditFeedSchema, auditHeadSchema } from './audit.schemas.ts';

type Response = { description: string; content?: Record<string, { schema: z.ZodType }> };
export interface AuditOpenApiHelpers {
  json: (schema: z.ZodType, description: string) => Response;
  errors: Record<number, Response>;
}

/** GET /v1/audit and /v1/audit/head for the OpenAPI document; openapi.document.ts passes its shared helpers. */
export function registerAuditPaths(registry: OpenAPIRegistry, { json, errors }: AuditOpenApiHelpers) {
  const adminErrors = { 400: errors[400]!, 401: errors[401]!, 403: errors[403]!, 429: errors[429]! };
  registry.registerPath({
    method: 'get',
    path: '/v1/audit',
    operationId: 'listAudit',
    tags: ['audit'],
    security: [{ apiKey: [] }],
    summary: "Your organisation's audit log (admin)",
    description:
      "Every audited write of the admin's organisation (incidents, keys, webhooks, the organisation itself), newest first, each with its place " +
      'in the hash chain and its hash. Only an admin key of the organisation; other roles get 403. Filters combine; pages follow nextCursor.',
    request: { query: auditFeedQuerySchema },
    responses: { 200: json(auditFeedSchema, 'A page of audit records, newest first.'), ...adminErrors },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/audit/head',
    operationId: 'getAuditHead',
    tags: ['audit'],
    security: [{ apiKey: [] }],
    summary: "The audit hash chain's head, to store elsewhere (admin)",
    description:
      'The last record of the chain, which covers every audit record of the instance. Keep it where the operator of this instance cannot ' +
      'change it; `npm run audit -- verify --head <id>:<hash>` later shows that the chain still holds it, so no record up to it was changed, ' +
      'removed or reordered, and none was cut from the end.',
    responses: { 200: json(auditHeadSchema, 'The head; id and hash are null while the log is empty.'), ...adminErrors },
  });
}
