/** One API call, timed. A network failure (refused, reset) is an outcome too, not an exception. */
export interface Reply {
  /** HTTP status, or 0 when no response arrived. */
  status: number;
  /** `ECONNREFUSED`, `ECONNRESET`, `TimeoutError`, ... when no response arrived. */
  networkError?: string;
  body: any;
  headers: Headers;
  ms: number;
}

export interface CallOptions {
  key?: string | undefined;
  body?: unknown;
  /** A body sent as is (CSV for imports), with its content type in `headers`. */
  rawBody?: string;
  headers?: Record<string, string>;
}

export async function call(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const started = performance.now();
  try {
    // Generous, so a slow answer is a figure, not an error; it only keeps a hung server from hanging the run.
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body, signal: AbortSignal.timeout(120_000) });
    const text = await response.text();
    const json = /json/.test(response.headers.get('content-type') ?? '') && text ? JSON.parse(text) : text;
    return { status: response.status, body: json, headers: response.headers, ms: performance.now() - started };
  } catch (error) {
    return { status: 0, networkError: networkErrorCode(error), body: undefined, headers: new Headers(), ms: performance.now() - started };
  }
}

/** undici wraps the socket error: `TypeError: fetch failed` with the real one as `cause`. */
function networkErrorCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string; name?: string; message?: string } }).cause;
  return cause?.code ?? cause?.name ?? (error as Error).name ?? 'unknown';
}

/** 2xx */
export const acknowledged = (reply: Reply) => reply.status >= 200 && reply.status < 300;

export const isProblem = (reply: Reply, type: string) =>
  /application\/problem\+json/.test(reply.headers.get('content-type') ?? '') && reply.body?.type === `/problems/${type}`;
