import type { Request, Response } from 'express';
import { ipKeyGenerator, rateLimit, type Store } from 'express-rate-limit';
import type { Config } from '../config.ts';
import { sendProblem } from '../http/problem-handler.ts';

/**
 * Failed authentications (unknown, revoked, expired or malformed keys), counted per IP address
 * (per /56 for IPv6) in RATE_LIMIT_FAILED_AUTH per RATE_LIMIT_WINDOW_SECONDS. Only failures
 * count, so a working key is never slowed by this; but once an address is over the limit every
 * key it presents is refused unread until the window ends, or a guesser could still tell a hit
 * (200) from a miss (429). With Redis the count is shared by every API process; the store must
 * be its own instance, since express-rate-limit gives each limiter its own window settings.
 */
export interface FailedAuthLimit {
  /** The address is over its budget: answers 429 and returns true. */
  refuseIfBlocked(req: Request, res: Response): Promise<boolean>;
  /** Counts one failure; true when this one went over the budget (429 sent). */
  countFailure(req: Request, res: Response): Promise<boolean>;
}

/** What the limiter's handler passes on, so countFailure knows the 429 has been sent. */
const OVER_BUDGET = Symbol('over the failed-authentication budget');

const addressOf = (req: Request) => `failed-auth:${ipKeyGenerator(req.ip ?? '')}`;

function sendTooManyFailures(res: Response, retryAfterSeconds: number | undefined) {
  if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(retryAfterSeconds));
  sendProblem(res, {
    status: 429,
    slug: 'too-many-failed-authentications',
    title: 'Too many failed authentications',
    detail:
      'Too many requests from your address carried a key that is unknown, revoked, expired or malformed. ' +
      'Check the key your client sends, and wait for the time in the Retry-After header.',
  });
}

export function failedAuthLimit(config: Config, store?: Store): FailedAuthLimit {
  const limit = config.RATE_LIMIT_FAILED_AUTH;
  const limiter = rateLimit({
    windowMs: config.RATE_LIMIT_WINDOW_SECONDS * 1000,
    limit,
    keyGenerator: addressOf,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'failed-auth',
    ...(store ? { store } : {}),
    // If Redis is unreachable, still answer 401 rather than refusing everyone.
    passOnStoreError: true,
    handler: (_req, res, next) => {
      sendTooManyFailures(res, undefined); // express-rate-limit has set Retry-After already
      next(OVER_BUDGET);
    },
  });

  return {
    async refuseIfBlocked(req, res) {
      const info = await Promise.resolve(limiter.getKey(addressOf(req))).catch(() => undefined);
      const resetsIn = info?.resetTime ? Math.ceil((info.resetTime.getTime() - Date.now()) / 1000) : 0;
      if (!info || info.totalHits < limit || resetsIn <= 0) return false;
      sendTooManyFailures(res, resetsIn);
      return true;
    },
    async countFailure(req, res) {
      const outcome = await new Promise<unknown>((resolve) => void limiter(req, res, resolve));
      return outcome === OVER_BUDGET;
    },
  };
}
