import express, { type RequestHandler } from 'express';
import { sendProblem } from './problem-handler.ts';

const READS_NO_BODY = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Reads a JSON request body. A body sent in another type (text/plain, a form, XML) is refused
 * with 415 naming application/json: read as no body at all, it would otherwise be reported as
 * missing fields. A request without a body (none, or Content-Length: 0) passes whatever its
 * Content-Type. `strict: false` lets `3` or `"text"` (valid JSON, wrong shape) reach the
 * schema, which names the problem.
 */
export function jsonBody(options: { limit: string | number }): RequestHandler {
  const parse = express.json({ limit: options.limit, strict: false });
  return (req, res, next) => {
    const hasBody = req.get('transfer-encoding') !== undefined || Number(req.get('content-length')) > 0;
    if (hasBody && !READS_NO_BODY.has(req.method) && !req.is('application/json')) {
      const sent = req.get('content-type')?.slice(0, 100);
      sendProblem(res, {
        status: 415,
        slug: 'unsupported-media-type',
        title: 'Send the body as JSON',
        detail: `This route reads JSON: send the body with Content-Type: application/json${sent ? ` (not ${sent})` : ''}.`,
      });
      return;
    }
    parse(req, res, next);
  };
}
