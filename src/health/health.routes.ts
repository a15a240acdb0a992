import { Router } from 'express';
import { sql } from 'kysely';
import type { Db } from '../db/create-db.ts';
import { sendProblem } from '../http/problem-handler.ts';
import { refuseQuery } from '../validation.ts';

/** /healthz: the process answers. /readyz: it can also reach the database. */
export function healthRoutes(db: Db): Router {
  const router = Router();
  router.get('/healthz', (req, res) => {
    refuseQuery(req.query);
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (req, res) => {
    refuseQuery(req.query);
    try {
      await sql`select 1`.execute(db);
      res.json({ status: 'ready' });
    } catch (error) {
      req.log.warn({ err: error }, 'readiness check failed');
      sendProblem(res, { status: 503, slug: 'not-ready', title: 'Database unreachable', detail: 'The API cannot reach its database.' });
    }
  });
  return router;
}
