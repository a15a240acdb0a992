import type { RequestHandler } from 'express';
import { sendProblem } from '../http/problem-handler.ts';
import { scopeFor } from './scopes.ts';

/**
 * Refuses a request its key's scopes do not cover, before any route runs, naming the scope it
 * needs. Keys without scopes, and anonymous callers, pass: their role decides, as ever. A path
 * under /v1/ that no row of ROUTE_SCOPES covers is refused too (there is no such route, and a
 * scoped key must never reach one the table forgot); other paths are the public site and docs.
 */
export const checkKeyScope: RequestHandler = (req, res, next) => {
  const scopes = req.keyScopes;
  if (!scopes) return next();
  const needed = scopeFor(req.method, req.path);
  if (needed === null || (needed === undefined && !/^\/v1(\/|$)/i.test(req.path)) || (needed && scopes.includes(needed))) return next();
  sendProblem(res, {
    status: 403,
    slug: 'insufficient-scope',
    title: "Your key's scopes do not cover this",
    detail: needed
      ? `This key is limited to ${scopes.join(', ')}; ${req.method} ${req.path} needs the scope ${needed}.`
      : `This key is limited to ${scopes.join(', ')}, and no scope covers ${req.method} ${req.path}.`,
    requiredScope: needed ?? null,
    keyScopes: scopes,
  });
};
