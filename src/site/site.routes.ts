import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Db } from '../db/create-db.ts';
import { getDataVersion, type DataVersion } from '../db/data-version.ts';
import { answerIfUnchanged } from '../auth/conditional-read.ts';
import { readerFor } from '../auth/read-routing.ts';
import { cacheControl } from '../http/cache-control.ts';
import { messagesFor } from './i18n.ts';
import type { PageContext } from './layout.ts';
import { explorePage } from './pages/explore.page.ts';
import { homePage } from './pages/home.page.ts';
import { incidentPage, messagePage } from './pages/incident.page.ts';
import { methodologyPage } from './pages/methodology.page.ts';
import { statisticsPage } from './pages/statistics.page.ts';
import { SiteData } from './site-data.ts';
import { parseSiteQuery, siteHref, type SiteQuery } from './site-query.ts';

/**
 * The public site: server-rendered pages over the same queries and the same public shape as the
 * anonymous API (site-data.ts). Every page carries the data version's ETag and answers 304
 * like the API. Mounted by src/app.ts unless PUBLIC_SITE=false.
 *
 * It is returned as a plain handler around its router: the site's pages are HTML for readers,
 * not API operations, so the API's route tables (the authz matrix, the request rules and the
 * OpenAPI document, which read the app's router stack) leave them out; test/site.test.ts covers them.
 */
export function siteHandler(db: Db): RequestHandler {
  const router = siteRoutes(db);
  return (req, res, next) => router(req, res, next);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function siteRoutes(db: Db): Router {
  const router = Router();
  const siteData = new SiteData(db);

  /** Parses the query, answers 304 when the data has not changed, and sends the page. */
  const pageRoute =
    (render: (context: PageContext, data: SiteData, query: SiteQuery, req: Request) => Promise<string> | string) =>
    async (req: Request, res: Response) => {
      const query = parseSiteQuery(req.query as Record<string, unknown>);
      const reader = readerFor(db, req); // readers are anonymous: a replica when there are some
      const version = await answerIfUnchanged(reader, req, res);
      if (!version) return;
      send(res, query, await render(contextFor(req, query, version), siteData.readingFrom(reader), query, req));
    };

  router.get(
    '/',
    pageRoute((context, data) => homePage(context, data)),
  );
  router.get(
    '/explore',
    pageRoute((context, data, query, req) => explorePage(context, data, query, absoluteUrl(req))),
  );
  router.get(
    '/statistics',
    pageRoute((context, data, query, req) => statisticsPage(context, data, query, absoluteUrl(req))),
  );
  router.get(
    '/methodology',
    pageRoute((context) => methodologyPage(context)),
  );

  router.get('/incidents/:id', async (req, res) => {
    const query = parseSiteQuery(req.query as Record<string, unknown>);
    const id = String(req.params.id);
    const reader = readerFor(db, req);
    const found = UUID.test(id) ? await siteData.readingFrom(reader).incident(id.toLowerCase()) : {};
    if (found.mergedInto) {
      res.set('Cache-Control', cacheControl(req, true));
      return res.redirect(308, siteHref(`/incidents/${found.mergedInto}`, query.locale));
    }
    const version = await answerIfUnchanged(reader, req, res);
    if (!version) return;
    const context = contextFor(req, query, version);
    if (!found.incident) {
      const m = context.m;
      res.status(404);
      return send(res, query, messagePage(context, m.t('incident.notFound'), m.t('incident.notFoundText')));
    }
    send(res, query, incidentPage(context, found.incident, absoluteUrl(req)));
  });

  // A mistyped address in a browser gets a page, not the API's problem+json (which API clients,
  // asking for JSON or anything else, still get from the not-found handler after this).
  router.use(async (req, res, next) => {
    if (!['GET', 'HEAD'].includes(req.method) || req.path.startsWith('/v1/') || req.accepts(['json', 'html']) !== 'html') return next();
    const query = parseSiteQuery(req.query as Record<string, unknown>);
    const context = contextFor(req, query, await getDataVersion(db));
    res.status(404).set('Cache-Control', 'no-cache');
    send(res, query, messagePage(context, context.m.t('error.notFound'), context.m.t('error.notFoundText')));
  });

  return router;
}

function contextFor(req: Request, query: SiteQuery, version: DataVersion): PageContext {
  const url = new URL(req.originalUrl, 'http://site.invalid');
  const params = new URLSearchParams(url.searchParams);
  params.delete('lang');
  return { m: messagesFor(query.locale), path: url.pathname, params, version };
}

function absoluteUrl(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}${req.originalUrl}`;
}

function send(res: Response, query: SiteQuery, body: string) {
  res.set('Content-Language', query.locale);
  res.type('html').send(body);
}
