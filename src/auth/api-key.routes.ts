import { Router } from 'express';
import { appendAudit } from '../audit/audit.queries.ts';
import type { Db } from '../db/create-db.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { parseInput } from '../http/validate.ts';
import { findOrganisation } from '../organisations/organisation.queries.ts';
import { requireRole } from './actor.ts';
import { findApiKey, insertApiKey, listApiKeys, revokeApiKey } from './api-key.queries.ts';
import { apiKeyIdParamsSchema, createApiKeySchema, listApiKeysQuerySchema, toApiKey } from './api-key.schemas.ts';

/** API keys are managed by the instance operator (admin keys), or from the CLI. */
export function apiKeyRoutes(db: Db): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    requireRole(req.actor, 'admin');
    const query = parseInput(listApiKeysQuerySchema, req.query, 'query');
    res.json({ data: (await listApiKeys(db, query.organisationId)).map(toApiKey) });
  });

  router.post('/', async (req, res) => {
    const actor = requireRole(req.actor, 'admin');
    const input = parseInput(createApiKeySchema, req.body, 'body');
    const created = await db.transaction().execute(async (trx) => {
      if (!(await findOrganisation(trx, input.organisationId))) {
        throw new ValidationError('The request body is not valid.', [{ pointer: '/organisationId', detail: 'no such organisation' }]);
      }
      const { key, ...row } = await insertApiKey(trx, input);
      const apiKey = toApiKey(row);
      await appendAudit(trx, { actor, requestId: String(req.id) }, {
        action: 'api_key.create', entityType: 'api_key', entityId: apiKey.id, organisationId: apiKey.organisationId, before: null, after: apiKey,
      });
      return { ...apiKey, key };
    });
    res.status(201).json(created);
  });

  router.delete('/:id', async (req, res) => {
    const actor = requireRole(req.actor, 'admin');
    const { id } = parseInput(apiKeyIdParamsSchema, req.params, 'params');
    await db.transaction().execute(async (trx) => {
      const before = await findApiKey(trx, id);
      if (!before) throw new NotFoundError('API key not found.');
      const revoked = await revokeApiKey(trx, id);
      if (!revoked) return; // already revoked: nothing to change
      await appendAudit(trx, { actor, requestId: String(req.id) }, {
        action: 'api_key.revoke', entityType: 'api_key', entityId: id, organisationId: revoked.organisation_id,
        before: toApiKey(before), after: toApiKey(revoked),
      });
    });
    res.status(204).end();
  });

  return router;
}
