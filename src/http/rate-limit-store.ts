import type { Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { createClient } from 'redis';
import type { Logger } from '../logger.ts';

export interface RateLimitStore {
  /** undefined: express-rate-limit's own in-memory store (one process). */
  store: Store | undefined;
  /** Failed authentications per address (src/auth/failed-auth-limit.ts): a limiter needs a store of its own. */
  failedAuthStore: Store | undefined;
  close: () => Promise<void>;
}

/**
 * With REDIS_URL, every API process counts against the same budget, so running three
 * processes behind a load balancer does not triple what an anonymous caller may do.
 */
export async function createRateLimitStore(
  redisUrl: string | undefined,
  logger: Logger,
  prefix = 'dateline:ratelimit:',
): Promise<RateLimitStore> {
  if (!redisUrl) return { store: undefined, failedAuthStore: undefined, close: async () => {} };
  const client = createClient({ url: redisUrl });
  client.on('error', (error: Error) => logger.warn({ err: error }, 'Redis (rate limits) connection error'));
  await client.connect();
  const store = new RedisStore({
    prefix,
    sendCommand: (...args: string[]) => client.sendCommand(args),
  });
  const failedAuthStore = new RedisStore({
    prefix: `${prefix}failed-auth:`,
    sendCommand: (...args: string[]) => client.sendCommand(args),
  });
  return {
    store,
    failedAuthStore,
    close: async () => {
      await client.close();
    },
  };
}
