import type { Express } from 'express';

/**
 * The routes an Express 5 app really serves, read from its router stack, as "METHOD /path"
 * with Express parameters (`GET /v1/incidents/:id`). A router mounted with a path, or a
 * middleware mounted on one (such as the /docs viewer), counts as a route of that path. Tests
 * compare this list with their expectation tables and with the OpenAPI document, so a new
 * route cannot be left out of either.
 */
interface Layer {
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

export function appRoutes(app: Express): string[] {
  const routes = new Set<string>();
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      const path = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      if (layer.route) {
        const full = `${prefix}${layer.route.path}`.replace(/(.)\/$/, '$1');
        for (const method of Object.keys(layer.route.methods)) if (method !== '_all') routes.add(`${method.toUpperCase()} ${full}`);
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, `${prefix}${path}`);
      } else if (path) {
        routes.add(`GET ${prefix}${path}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return [...routes].sort();
}

/** The operations of an OpenAPI document, in the same notation (`{id}` becomes `:id`). */
export function openApiRoutes(document: { paths?: Record<string, Record<string, unknown>> }): string[] {
  const { paths = {} } = document;
  return Object.entries(paths)
    .flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    )
    .sort();
}
