import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type Store } from 'express-rate-limit';
import type { Config } from '../config.ts';
import { sendProblem } from './problem-handler.ts';

/**
 * One limiter for every route, after authentication: API keys are counted per key with a
 * higher budget, anonymous callers per IP address (per /56 for IPv6) with a lower one.
 * Headers follow the IETF RateLimit draft so clients can pace themselves.
 */
export function rateLimiter(config: Config, store?: Store): RequestHandler {
  return rateLimit({
    windowMs: config.RATE_LIMIT_WINDOW_SECONDS * 1000,
    limit: (req) => (req.actor.kind === 'key' ? config.RATE_LIMIT_AUTHENTICATED : config.RATE_LIMIT_ANONYMOUS),
    keyGenerator: (req) => (req.actor.kind === 'key' ? `key:${req.actor.keyId}` : `ip:${ipKeyGenerator(req.ip ?? '')}`),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    ...(store ? { store } : {}),
    // If Redis is unreachable, serve rather than refuse everyone: this is a read-mostly public API.
    passOnStoreError: true,
    handler: (req, res) => {
      sendProblem(res, {
        status: 429,
        slug: 'rate-limited',
        title: 'Too many requests',
        detail:
          req.actor.kind === 'key'
            ? 'This API key has used its request budget; wait for the time in the RateLimit header.'
            : 'Anonymous access is rate-limited per address; wait, or ask a press-freedom group for an API key.',
      });
    },
  });
}
