import type { ErrorRequestHandler, RequestHandler } from 'express';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  PreconditionRequiredError,
  UnauthenticatedError,
  ValidationError,
} from '../errors.ts';

/**
 * RFC 9457 problem details. Every error leaves the API through sendProblem, so clients parse
 * one shape: type, title, status, detail, instance plus requestId and, for bad input, errors[].
 */
export interface Problem {
  status: number;
  slug: string;
  title: string;
  detail?: string | undefined;
  [extra: string]: unknown;
}

// Keyed by the error's class: `new (...args: never[]) => DomainError` says so without `Function`.
const byDomainError = new Map<abstract new (...args: never[]) => Error, { status: number; slug: string; title: string }>([
  [ValidationError, { status: 400, slug: 'validation-failed', title: 'Your request is not valid' }],
  [UnauthenticatedError, { status: 401, slug: 'unauthenticated', title: 'Authentication required' }],
  [ForbiddenError, { status: 403, slug: 'forbidden', title: 'Your role may not do this' }],
  [NotFoundError, { status: 404, slug: 'not-found', title: 'Not found' }],
  [ConflictError, { status: 409, slug: 'conflict', title: 'The resource has changed' }],
  [PreconditionRequiredError, { status: 428, slug: 'precondition-required', title: 'Version required' }],
]);

/** Errors raised by express.json() before a handler runs, keyed by their `type`. */
const byBodyParserType: Record<string, { status: number; slug: string; title: string; detail: string }> = {
  'entity.too.large': {
    status: 413,
    slug: 'payload-too-large',
    title: 'The request body is too large',
    detail: 'Send a smaller body; the limit is set by BODY_LIMIT.',
  },
  'entity.parse.failed': {
    status: 400,
    slug: 'malformed-json',
    title: 'The request body is not valid JSON',
    detail: 'Check the JSON syntax of the request body.',
  },
  'encoding.unsupported': {
    status: 415,
    slug: 'unsupported-encoding',
    title: 'Unsupported content encoding',
    detail: 'Send the body as UTF-8.',
  },
  'charset.unsupported': {
    status: 415,
    slug: 'unsupported-encoding',
    title: 'Unsupported charset',
    detail: 'Send the body as UTF-8 (Content-Type: application/json; charset=utf-8).',
  },
};

/**
 * Any other client error from reading the body (a gzip body that is not gzip, a body shorter
 * than its Content-Length, an aborted upload): body-parser marks them with a 4xx status and
 * `expose`, meaning the message is safe to show.
 */
function unreadableBody(error: { status?: unknown; expose?: unknown; message?: unknown }) {
  if (error?.expose !== true || typeof error.status !== 'number' || error.status < 400 || error.status > 499) return undefined;
  return { status: error.status, slug: 'unreadable-body', title: 'The request body cannot be read', detail: String(error.message) };
}

/** PostgreSQL errors that mean "bad input" rather than "server broken", by SQLSTATE. */
const byPostgresCode: Record<string, { status: number; slug: string; title: string }> = {
  '23505': { status: 409, slug: 'conflict', title: 'This already exists' },
  '23514': { status: 400, slug: 'validation-failed', title: 'A value is outside the allowed set' },
  '22P02': { status: 400, slug: 'validation-failed', title: 'A value has the wrong format' },
  '22007': { status: 400, slug: 'validation-failed', title: 'A date is not valid' },
  '22008': { status: 400, slug: 'validation-failed', title: 'A date is out of range' },
  // NUL in text, or "\u0000" in jsonb: refused by parseInput, but CSV cells reach the database by other paths.
  '22021': { status: 400, slug: 'validation-failed', title: 'A text contains a character that cannot be stored' },
  '22P05': { status: 400, slug: 'validation-failed', title: 'A text contains a character that cannot be stored' },
};

/** The database is unreachable or gave up: the client may retry, so 503 rather than 500. */
const unavailable: Record<string, { slug: string; title: string; detail: string }> = {
  '57014': {
    slug: 'query-timeout',
    title: 'The request took too long',
    detail: 'The database stopped this query after STATEMENT_TIMEOUT_MS. Narrow the filters or group by fewer dimensions.',
  },
  // On a read replica, PostgreSQL cancels a query whose rows the primary's changes are removing
  // ("conflict with recovery"); the same request a moment later succeeds.
  '40001': {
    slug: 'database-busy',
    title: 'The database could not finish this read',
    detail: 'The database cancelled this read because the rows it needed changed underneath it. Retry shortly.',
  },
  ...Object.fromEntries(
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08003', '08006'].map((code) => [
      code,
      { slug: 'database-unavailable', title: 'Database unavailable', detail: 'The database cannot be reached right now. Retry shortly.' },
    ]),
  ),
};
// pg's messages for a connection lost mid-request (the last: a query on a client whose connection already failed).
const CONNECTION_ERROR =
  /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED|encountered a connection error and is not queryable/i;

export function sendProblem(res: Parameters<RequestHandler>[1], problem: Problem): void {
  const { status, slug, title, detail, ...extras } = problem;
  const req = res.req;
  res
    .status(status)
    .type('application/problem+json')
    .json({
      type: `/problems/${slug}`,
      title,
      status,
      ...(detail ? { detail } : {}),
      instance: req.originalUrl,
      requestId: req.id,
      ...extras,
    });
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendProblem(res, {
    status: 404,
    slug: 'not-found',
    title: 'Not found',
    detail: `There is no route ${req.method} ${req.path}. The API is described at /openapi.json.`,
  });
};

export const problemHandler: ErrorRequestHandler = (error, req, res, _next) => {
  if (res.headersSent) {
    req.log.error({ err: error }, 'error after the response started');
    res.destroy();
    return;
  }

  if (error instanceof DomainError) {
    const mapping = byDomainError.get(error.constructor as typeof DomainError) ?? {
      status: 500,
      slug: 'internal',
      title: 'Internal error',
    };
    const errors = error instanceof ValidationError ? { errors: error.errors } : {};
    sendProblem(res, { ...mapping, detail: error.message, ...error.details, ...errors });
    return;
  }

  const bodyError = (typeof error?.type === 'string' ? byBodyParserType[error.type] : undefined) ?? unreadableBody(error);
  if (bodyError) {
    sendProblem(res, bodyError);
    return;
  }

  const outage =
    (typeof error?.code === 'string' ? unavailable[error.code] : undefined) ??
    (CONNECTION_ERROR.test(String(error?.message)) ? unavailable.ECONNREFUSED : undefined);
  if (outage) {
    req.log.warn({ err: error }, outage.title);
    res.set('Retry-After', '5');
    sendProblem(res, { status: 503, ...outage });
    return;
  }

  const pgError = typeof error?.code === 'string' ? byPostgresCode[error.code] : undefined;
  if (pgError) {
    req.log.warn({ err: error }, 'database rejected input that passed validation');
    sendProblem(res, { ...pgError, detail: 'The database rejected a value. Check the request against /openapi.json.' });
    return;
  }

  // Anything else is our fault: log it in full, tell the client only the request id.
  req.log.error({ err: error }, 'unhandled error');
  sendProblem(res, {
    status: 500,
    slug: 'internal',
    title: 'Internal server error',
    detail: 'Something went wrong on our side. Quote the requestId when reporting it.',
  });
};
