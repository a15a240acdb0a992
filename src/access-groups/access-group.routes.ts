import { Router, type Request } from 'express';
import type { AuditContext } from '../audit/actor.ts';
import type { Db } from '../db/create-db.ts';
import { parseInput, refuseQuery } from '../validation.ts';
import {
  accessGroupIdParamsSchema,
  createAccessGroupSchema,
  incidentParamsSchema,
  memberParamsSchema,
  renameAccessGroupSchema,
  setAccessGroupsSchema,
  victimParamsSchema,
} from './access-group.schemas.ts';
import {
  changeMembership,
  createGroup,
  deleteGroup,
  getIncidentAccess,
  listGroups,
  renameGroup,
  setIncidentGroups,
  setVictimGroups,
} from './access-group.service.ts';

export interface AccessGroupRouteOptions {
  /** Checks that the caller is an admin and names them for the audit trail (given by the app, as for organisations). */
  asAdmin: (req: Request) => AuditContext;
}

/** /v1/access-groups: an organisation's groups and their member keys (its admins). */
export function accessGroupRoutes(db: Db, { asAdmin }: AccessGroupRouteOptions): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const context = asAdmin(req);
    refuseQuery(req.query);
    res.json({ data: await listGroups(db, context) });
  });

  router.post('/', async (req, res) => {
    const context = asAdmin(req);
    refuseQuery(req.query);
    const { name } = parseInput(createAccessGroupSchema, req.body, 'body');
    const group = await createGroup(db, context, name);
    res.status(201).location(`${req.baseUrl}/${group.id}`).json(group);
  });

  router.patch('/:id', async (req, res) => {
    const context = asAdmin(req);
    const { id } = parseInput(accessGroupIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    const { name } = parseInput(renameAccessGroupSchema, req.body, 'body');
    res.json(await renameGroup(db, context, id, name));
  });

  router.delete('/:id', async (req, res) => {
    const context = asAdmin(req);
    const { id } = parseInput(accessGroupIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    await deleteGroup(db, context, id);
    res.status(204).end();
  });

  for (const [method, change] of [
    ['put', 'add'],
    ['delete', 'remove'],
  ] as const) {
    router[method]('/:id/members/:keyId', async (req, res) => {
      const context = asAdmin(req);
      const { id, keyId } = parseInput(memberParamsSchema, req.params, 'params');
      refuseQuery(req.query);
      res.json(await changeMembership(db, context, id, keyId, change));
    });
  }

  return router;
}

/** /v1/incidents/{id}/access-groups and a victim's: which groups an incident or victim is restricted to (its organisation's admins). */
export function incidentAccessRoutes(db: Db, { asAdmin }: AccessGroupRouteOptions): Router {
  const router = Router();

  router.get('/:id/access-groups', async (req, res) => {
    const context = asAdmin(req);
    const { id } = parseInput(incidentParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    res.json(await getIncidentAccess(db, context, id));
  });

  router.put('/:id/access-groups', async (req, res) => {
    const context = asAdmin(req);
    const { id } = parseInput(incidentParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    const { groupIds } = parseInput(setAccessGroupsSchema, req.body, 'body');
    res.json(await setIncidentGroups(db, context, id, groupIds));
  });

  router.put('/:id/victims/:victimId/access-groups', async (req, res) => {
    const context = asAdmin(req);
    const { id, victimId } = parseInput(victimParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    const { groupIds } = parseInput(setAccessGroupsSchema, req.body, 'body');
    res.json(await setVictimGroups(db, context, id, victimId, groupIds));
  });

  return router;
}
