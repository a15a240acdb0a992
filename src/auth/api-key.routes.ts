import { Router } from 'express';
import type { Db } from '../db/create-db.ts';
import { parseInput, refuseQuery } from '../validation.ts';
import { listApiKeys } from './api-key.queries.ts';
import { apiKeyIdParamsSchema, createApiKeySchema, listApiKeysQuerySchema, rotateApiKeySchema, toApiKey } from './api-key.schemas.ts';
import { createApiKey, revokeApiKey, rotateApiKey } from './api-key.service.ts';
import { auditContextOf } from './authenticate.ts';

/** API keys are managed by the instance operator (admin keys), or from the CLI. */
export function apiKeyRoutes(db: Db): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    auditContextOf(req, 'admin');
    const query = parseInput(listApiKeysQuerySchema, req.query, 'query');
    res.json({ data: (await listApiKeys(db, query.organisationId)).map(toApiKey) });
  });

  router.post('/', async (req, res) => {
    const context = auditContextOf(req, 'admin');
    refuseQuery(req.query);
    const input = parseInput(createApiKeySchema, req.body, 'body');
    res.status(201).json(await createApiKey(db, context, input));
  });

  // A new key in place of this one; the old key works for the grace period, then stops.
  router.post('/:id/rotate', async (req, res) => {
    const context = auditContextOf(req, 'admin');
    const { id } = parseInput(apiKeyIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    const input = parseInput(rotateApiKeySchema, req.body ?? {}, 'body');
    res.status(201).json(await rotateApiKey(db, context, id, input));
  });

  router.delete('/:id', async (req, res) => {
    const context = auditContextOf(req, 'admin');
    const { id } = parseInput(apiKeyIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    await revokeApiKey(db, context, id); // revoking a revoked key changes nothing, and is no error
    res.status(204).end();
  });

  return router;
}
