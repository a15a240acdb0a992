import { Router } from 'express';
import type { Db } from '../db/create-db.ts';
import { parseInput, refuseQuery } from '../validation.ts';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listDeliveries,
  listWebhooks,
  redeliver,
  rotateWebhookSecret,
  updateWebhook,
  webhookContext,
} from './webhook.service.ts';
import {
  createWebhookSchema,
  deliveryParamsSchema,
  listDeliveriesQuerySchema,
  redeliverSinceSchema,
  rotateSecretSchema,
  updateWebhookSchema,
  webhookIdParamsSchema,
} from './webhook.schemas.ts';

/** /v1/webhooks: an editor, reviewer or researcher key's own endpoints, their secrets and deliveries. */
export function webhookRoutes(db: Db, { allowPrivate }: { allowPrivate: boolean }): Router {
  const router = Router();
  const context = (req: Parameters<Parameters<typeof router.get>[1]>[0]) => webhookContext(req.actor, String(req.id));
  const noStore = { 'Cache-Control': 'no-store' };

  router.post('/', async (req, res) => {
    const ctx = context(req);
    refuseQuery(req.query);
    const input = parseInput(createWebhookSchema, req.body, 'body');
    const created = await createWebhook(db, ctx, input, allowPrivate);
    res.status(201).set(noStore).location(`${req.baseUrl}/${created.id}`).json(created);
  });

  router.get('/', async (req, res) => {
    const ctx = context(req);
    refuseQuery(req.query);
    res.set(noStore).json({ data: await listWebhooks(db, ctx) });
  });

  router.get('/:id', async (req, res) => {
    const ctx = context(req);
    const { id } = parseInput(webhookIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    res.set(noStore).json(await getWebhook(db, ctx, id));
  });

  router.patch('/:id', async (req, res) => {
    const ctx = context(req);
    const { id } = parseInput(webhookIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    const input = parseInput(updateWebhookSchema, req.body, 'body');
    res.set(noStore).json(await updateWebhook(db, ctx, id, input, allowPrivate));
  });

  router.delete('/:id', async (req, res) => {
    const ctx = context(req);
    const { id } = parseInput(webhookIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    await deleteWebhook(db, ctx, id);
    res.status(204).end();
  });

  router.post('/:id/rotate-secret', async (req, res) => {
    const ctx = context(req);
    const { id } = parseInput(webhookIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    const { overlapSeconds } = parseInput(rotateSecretSchema, req.body, 'body');
    res.set(noStore).json(await rotateWebhookSecret(db, ctx, id, overlapSeconds));
  });

  router.get('/:id/deliveries', async (req, res) => {
    const ctx = context(req);
    const { id } = parseInput(webhookIdParamsSchema, req.params, 'params');
    const query = parseInput(listDeliveriesQuerySchema, req.query, 'query');
    res.set(noStore).json({ data: await listDeliveries(db, ctx, id, query) });
  });

  router.post('/:id/deliveries/:deliveryId/redeliver', async (req, res) => {
    const ctx = context(req);
    const { id, deliveryId } = parseInput(deliveryParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    parseInput(rotateSecretSchema.pick({}), req.body, 'body');
    res.status(202).json(await redeliver(db, ctx, id, { deliveryId }));
  });

  router.post('/:id/redeliver', async (req, res) => {
    const ctx = context(req);
    const { id } = parseInput(webhookIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    const { since } = parseInput(redeliverSinceSchema, req.body, 'body');
    res.status(202).json(await redeliver(db, ctx, id, { since }));
  });

  return router;
}
