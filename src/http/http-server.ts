import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';

/**
 * The HTTP server around the app. A slow client (slowloris: headers or a body trickled a byte
 * at a time) only holds a socket, never a database connection, but thousands of them would
 * still exhaust the process: headers must arrive within HEADERS_TIMEOUT_MS and the whole
 * request within REQUEST_TIMEOUT_MS, or the client gets a 408 and the socket is closed.
 * Requests Node cannot even parse (bad syntax, headers over 16 KB) are answered, like every
 * other error, with problem+json instead of Node's bare status line, and logged (with the
 * problem's requestId) when a logger is given: these never reach the app's request log.
 */
export function createHttpServer(
  app: RequestListener,
  config: Pick<Config, 'HEADERS_TIMEOUT_MS' | 'REQUEST_TIMEOUT_MS'>,
  logger?: Logger,
): Server {
  const server = createServer(
    {
      headersTimeout: Math.min(config.HEADERS_TIMEOUT_MS, config.REQUEST_TIMEOUT_MS), // Node refuses a longer one
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      // How often Node looks for expired requests (default 30 s): often enough for short timeouts.
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(config.HEADERS_TIMEOUT_MS / 4))),
    },
    app,
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket, logger));
  trackResponses(server);
  return server;
}

/**
 * Stops the server and resolves once every connection has ended. server.close() waits for
 * every connection, and a keep-alive client that keeps sending never ends its own: under load
 * the server would serve on until the grace period ran out and then exit 1, cutting off the
 * requests in flight (npm run reliability -- sigterm). So from now on every response not yet
 * started says `Connection: close`, a response already streaming closes its connection when it
 * ends, and idle connections are closed at once.
 */
export function closeHttpServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  drainers.get(server)?.();
  server.closeIdleConnections();
  return closed;
}

const drainers = new WeakMap<Server, () => void>();

function trackResponses(server: Server) {
  let closing = false;
  const inFlight = new Set<ServerResponse>();
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (closing) res.setHeader('Connection', 'close');
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });
  drainers.set(server, () => {
    closing = true;
    for (const res of inFlight) {
      if (!res.headersSent) res.setHeader('Connection', 'close');
      else res.once('finish', () => res.req.socket.end());
    }
  });
}

const byNodeCode: Record<string, { status: number; slug: string; title: string; detail: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    slug: 'request-timeout',
    title: 'The request took too long to arrive',
    detail: 'Send the headers within HEADERS_TIMEOUT_MS and the whole request within REQUEST_TIMEOUT_MS.',
  },
  HPE_HEADER_OVERFLOW: {
    status: 431,
    slug: 'headers-too-large',
    title: 'The request headers are too large',
    detail: 'The request line and headers must fit in 16 KB; send long filters as shorter queries.',
  },
};
const malformed = {
  status: 400,
  slug: 'malformed-request',
  title: 'The request is not valid HTTP',
  detail: 'Check the request line and headers.',
};

function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, logger: Logger | undefined): void {
  // A reset or closed socket cannot be answered, nor one whose response has started (as Node's
  // own handler does, found through the response Node attaches to the socket).
  const response = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || response?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, ...problem } = byNodeCode[error.code ?? ''] ?? malformed;
  const requestId = randomUUID();
  logger?.warn(
    { requestId, status, code: error.code, remoteAddress: (socket as Duplex & { remoteAddress?: string }).remoteAddress },
    problem.title,
  );
  const body = JSON.stringify({ type: `/problems/${problem.slug}`, title: problem.title, status, detail: problem.detail, requestId });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
