import { randomUUID } from 'node:crypto';
import cors from 'cors';
import express, { type Express } from 'express';
import type { Store } from 'express-rate-limit';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { listenAcrossAreas } from './area-listeners.ts';
import { auditRoutes } from './audit/audit.routes.ts';
import { accessGroupRoutes, incidentAccessRoutes } from './access-groups/access-group.routes.ts';
import { apiKeyRoutes } from './auth/api-key.routes.ts';
import { auditContextOf, authenticate } from './auth/authenticate.ts';
import { checkKeyScope } from './auth/scope-check.ts';
import type { Config } from './config.ts';
import type { Db } from './db/create-db.ts';
import { replicaSetOf } from './db/replicas.ts';
import { rememberPrimaryReaders } from './auth/read-routing.ts';
import { duplicateRoutes } from './duplicates/duplicate.routes.ts';
import { exportRoutes } from './exports/export.routes.ts';
import { feedRoutes } from './feeds/feed.routes.ts';
import { sendIncidentPageCsv } from './exports/incident-page-csv.ts';
import { sendStatisticsCsv } from './exports/statistics-csv.ts';
import { healthRoutes } from './health/health.routes.ts';
import { importRoutes } from './imports/import.routes.ts';
import { jsonBody } from './http/json-body.ts';
import { notFoundHandler, problemHandler } from './http/problem-handler.ts';
import { rateLimiter } from './http/rate-limit.ts';
import { incidentRoutes } from './incidents/incident.routes.ts';
import type { Logger } from './logger.ts';
import { openApiRoutes } from './openapi/openapi.routes.ts';
import { organisationRoutes } from './organisations/organisation.routes.ts';
import { statisticsRoutes } from './statistics/statistics.routes.ts';
import { keepPublishedFactsInMemory } from './statistics/published-facts.ts';
import { setSharedCachePolicy } from './http/cache-control.ts';
import { siteAssetsHandler } from './site/assets.ts';
import { siteHandler } from './site/site.routes.ts';
import { webhookRoutes } from './webhooks/webhook.routes.ts';

export interface AppDependencies {
  db: Db;
  config: Config;
  logger: Logger;
  /** Shared rate-limit counters (Redis); in memory when absent. */
  rateLimitStore?: Store | undefined;
  /** Counters of failed authentications per address (Redis); a Store of their own, in memory when absent. */
  failedAuthStore?: Store | undefined;
}

/** Browsers on any site may read the API; writes stay same-origin (no CORS for them). */
const readOnlyCors = cors({
  origin: '*',
  methods: ['GET', 'HEAD'],
  allowedHeaders: ['Authorization', 'If-None-Match', 'X-Request-Id'],
  exposedHeaders: [
    'ETag',
    'RateLimit',
    'RateLimit-Policy',
    'Retry-After',
    'X-Request-Id',
    'X-Data-Version',
    'Content-Disposition',
    'Link',
    'X-Total-Count',
    'X-Totals',
  ],
  maxAge: 600,
});

export function createApp({ db, config, logger, rateLimitStore, failedAuthStore }: AppDependencies): Express {
  listenAcrossAreas();
  const replicas = replicaSetOf(db); // DATABASE_REPLICA_URLS: routes pick their reader with readerFor (src/auth/read-routing.ts)
  replicas?.start(logger);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  app.set('query parser', 'simple'); // no nested objects from ?a[b]=c: every parameter is a string
  setSharedCachePolicy(app, { freshSeconds: config.PUBLIC_CACHE_SECONDS, staleSeconds: config.PUBLIC_STALE_SECONDS });

  app.use(
    pinoHttp({
      logger,
      // Honour a caller's request id (from a proxy) so one id follows a request end to end.
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      serializers: {
        req: (req) => ({ id: req.id, method: req.method, url: req.url, remoteAddress: req.remoteAddress }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    }),
  );
  // Health probes come before the rate limiter: load balancers poll them constantly.
  app.use(healthRoutes(db));
  app.use(helmet());
  // The site's CSS, script and icon: static, long-cached, and not counted against a reader's
  // anonymous budget (a page view would otherwise cost four requests).
  if (config.PUBLIC_SITE) app.use(siteAssetsHandler());
  app.use((req, res, next) => (['GET', 'HEAD', 'OPTIONS'].includes(req.method) ? readOnlyCors(req, res, next) : next()));
  // JSON bodies only (415 for any other type). Imports parse their own (larger, CSV or JSON)
  // bodies after authentication: src/imports/import.routes.ts.
  const json = jsonBody({ limit: config.BODY_LIMIT });
  app.use((req, res, next) => (/^\/v1\/imports(\/|$)/.test(req.path) ? next() : json(req, res, next)));
  app.use(authenticate(db, { config, failedAuthStore }));
  app.use(rememberPrimaryReaders(db)); // read replicas: a key's reads after its writes (src/auth/read-routing.ts)
  app.use(checkKeyScope); // a key limited to some scopes may call only their routes (src/auth/scopes.ts)
  app.use(rateLimiter(config, rateLimitStore));
  app.use(openApiRoutes());

  app.use('/v1/incidents', feedRoutes(db, { publicUrl: config.PUBLIC_URL })); // the Atom feed, before /:id
  app.use('/v1/incidents', exportRoutes(db)); // before incidentRoutes, whose /:id would take /export; also the list as CSV
  app.use('/v1/incidents', incidentRoutes(db, { sendPageCsv: sendIncidentPageCsv }));
  app.use('/v1/incidents', duplicateRoutes(db)); // /:id/duplicates, /:id/merge
  app.use('/v1/incidents', incidentAccessRoutes(db, { asAdmin: (req) => auditContextOf(req, 'admin') })); // /:id/access-groups
  app.use('/v1/imports', importRoutes(db, { bodyLimit: config.IMPORT_BODY_LIMIT }));
  if (config.STATISTICS_IN_MEMORY) {
    const onError = (error: unknown) => logger.warn({ err: error }, 'Could not load the published facts into memory; statistics use SQL');
    // Loaded now, in the background, so the first public statistics after a start need no scan.
    // Each replica has its own copy: the columns answer only questions at the version their server read.
    for (const reader of [db, ...(replicas?.replicaDbs ?? [])]) keepPublishedFactsInMemory(reader, { onError }).load().catch(onError);
  }
  app.use('/v1/stats', statisticsRoutes(db, { sendCsv: sendStatisticsCsv }));
  app.use('/v1/organisations', organisationRoutes(db, { asAdmin: (req) => auditContextOf(req, 'admin') }));
  app.use('/v1/keys', apiKeyRoutes(db));
  app.use('/v1/access-groups', accessGroupRoutes(db, { asAdmin: (req) => auditContextOf(req, 'admin') }));
  app.use('/v1/audit', auditRoutes(db, { asAdmin: (req) => auditContextOf(req, 'admin') }));
  app.use('/v1/webhooks', webhookRoutes(db, { allowPrivate: config.WEBHOOKS_ALLOW_PRIVATE }));
  // The public site for readers (src/site/): HTML pages and their assets; PUBLIC_SITE=false leaves the API alone.
  if (config.PUBLIC_SITE) app.use(siteHandler(db));

  app.use(notFoundHandler);
  app.use(problemHandler);
  return app;
}
