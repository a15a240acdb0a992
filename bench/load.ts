import autocannon from 'autocannon';

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  statusCounts: Record<string, number>;
  errors: number;
}

/**
 * Closed-loop HTTP load with autocannon from a worker thread, so the load generator does not
 * share the event loop of the in-process server. autocannon cycles through `paths` on every
 * connection. Its latency histogram holds whole milliseconds (truncated).
 */
export async function runLoad(options: {
  baseUrl: string;
  paths: string[];
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
}): Promise<LoadResult> {
  const result = await autocannon({
    url: options.baseUrl,
    connections: options.connections,
    duration: options.seconds,
    workers: 1,
    timeout: 120, // seconds: a slow answer is a result, not an error
    headers: options.headers ?? {},
    requests: options.paths.map((path) => ({ method: 'GET', path })),
  });
  const statusCounts = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([status, { count = 0 }]) => [status, count]));
  return {
    requests: result.requests.total,
    perSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    statusCounts,
    errors: result.errors,
  };
}
