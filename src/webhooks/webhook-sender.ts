import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { resolveSafely, UnsafeUrlError } from './url-safety.ts';

/**
 * One delivery attempt: POST the body to the endpoint, connecting only to the address that was
 * checked (url-safety.ts), within `timeoutMs` for the whole attempt, never following a
 * redirect (a 3xx is a failure), and reading at most 64 kB of the answer.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
}

export interface SendOptions {
  allowPrivate: boolean;
  timeoutMs: number;
}

export async function sendWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: SendOptions,
): Promise<AttemptResult> {
  const started = performance.now();
  const done = (statusCode: number | null, error: string | null): AttemptResult => ({
    ok: statusCode !== null && statusCode >= 200 && statusCode < 300,
    statusCode,
    error,
    latencyMs: Math.round(performance.now() - started),
  });
  let target;
  try {
    target = await resolveSafely(url, options.allowPrivate);
  } catch (error) {
    return done(null, error instanceof UnsafeUrlError ? `refused: ${error.message}` : String(error));
  }
  const parsed = new URL(url);
  // Every lookup of this attempt answers the address that was checked.
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all)
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
    else callback(null, target.address, target.family);
  };
  return new Promise<AttemptResult>((resolve) => {
    const send = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const finish = (statusCode: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(done(statusCode, error));
    };
    const req = send(
      parsed,
      {
        method: 'POST',
        lookup: pinned,
        agent: false,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'Dateline-Webhooks/1',
        },
      },
      (res: IncomingMessage) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) {
            res.destroy();
            finish(res.statusCode ?? null, null); // the status is known; the rest of the body is not wanted
          }
        });
        res.on('end', () => finish(res.statusCode ?? null, null));
        res.on('error', () => finish(res.statusCode ?? null, null));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish(null, `timeout after ${options.timeoutMs} ms`);
    }, options.timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => finish(null, error.code ?? error.message));
    req.end(body);
  });
}
