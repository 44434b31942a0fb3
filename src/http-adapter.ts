import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseBody } from './common/body-parser';
import { BODY_LIMIT } from './config/mas-config';
import { answerBadUrl } from './common/request-hooks';
import type { MasConfig } from './config/mas-config';
import { errorBody, statusOf } from './errors/domain-exception.filter';
import { type MasError, RequestRejectedError, ValidationError } from './errors/mas-error';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** §2.2: receiving headers is bounded by 10 s and a whole request by 60 s; answering is not (A6). */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 60_000;
/** A6: a keep-alive connection without a request for 5 s is closed. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

const logger = new Logger('HTTP');

/** Told of each answer Node's parser gives outside Fastify (no request, no route), per server: metrics. */
export type ClientErrorListener = (status: number) => void;
const clientErrorListeners = new WeakMap<object, ClientErrorListener>();
export function onClientErrorAnswer(server: Server, fn: ClientErrorListener): void {
  clientErrorListeners.set(server, fn);
}

/**
 * The one HTTP adapter, for main.ts, the e2e tests and the OpenAPI script. Fastify, not Express:
 * a trivial Nest route served 4,213 req/s against Express's 857 on this machine (decision 0005).
 */
export function createHttpAdapter(): FastifyAdapter {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT,
    // any id that fits in Node's 16 KiB of headers must reach validation (400), not miss the route (A14)
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 16 * 1024 },
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // Node checks the two receive timeouts on this period (default 30 s, which would stretch 10 s to 40 s)
    http: {
      connectionsCheckingInterval: 1000,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
    },
    // a path the router cannot decode passes the same gate as any request, then is a 400 (A13)
    frameworkErrors: (err: Error, req: FastifyRequest, reply: FastifyReply) =>
      // fixed text: the router's message repeats the raw path at any length (attack A13-10)
      answerBadUrl(req, reply, 'the path is not valid percent-encoded UTF-8'),
    clientErrorHandler: answerClientError,
    // a caller's id is kept when it is safe to echo and log (§2.2)
    genReqId: (req: IncomingMessage) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && REQUEST_ID.test(h) ? h : randomUUID();
    },
  });
  const f = adapter.getInstance();
  f.removeAllContentTypeParsers();
  // bytes, decoded by parseBody: as 'string', Fastify compared Content-Length with the decoded text,
  // so a body with a byte that is not UTF-8 failed that check and answered 500 (attack A13-2)
  f.addContentTypeParser('*', { parseAs: 'buffer' }, parseBody);
  return adapter;
}

/** Limits that depend on the configuration: beyond the cap, Node closes new connections at once (A6). */
export function tuneServer(server: Server, cfg: MasConfig): void {
  server.maxConnections = cfg.maxConnections;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // RFC 9110 §10.1.1 lets a server ignore an expectation it does not know; Node's own answer is
  // a bare 417 without the envelope or §2.2's headers (attack A13-9), so the request goes on
  server.on('checkExpectation', (req, res) => server.emit('request', req, res));
  // Node hands CONNECT to this event and, unheard, drops the socket without an answer; §2.1 wants
  // every unknown method answered 404 in the envelope
  server.on('connect', (_req: IncomingMessage, socket: Duplex) =>
    answerRaw(socket, new RequestRejectedError('ROUTE_NOT_FOUND', 'No such route'), 'CONNECT'),
  );
}

/**
 * Node's own answer to a request it could not read (slow headers or body, malformed or oversized
 * head) is a raw text 408/400; ours is the envelope with the standard headers, logged (A13).
 * Nothing of the request is known, not even its id, so the id is fresh.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  answerRaw(socket, clientErrorOf(err.code), err.code ?? 'client error');
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  408: 'Request Timeout',
};

/** Writes the envelope straight to a socket Fastify never saw, then closes it. */
function answerRaw(socket: Duplex, e: MasError, cause: string): void {
  const pending = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
  const id = randomUUID();
  const status = statusOf(e.code);
  logger.log(`- - ${status} ${e.code} (${cause}) id=${id}`);
  if (!socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(e));
  const head = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    `X-Request-Id: ${id}`,
    'Connection: close',
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  // Node sets `server` on every socket it accepts
  const server = (socket as Duplex & { server?: object }).server;
  if (server) clientErrorListeners.get(server)?.(status);
  setTimeout(() => socket.destroy(), 1000).unref(); // a peer that never reads must not hold the fd
}

function clientErrorOf(code: string | undefined): MasError {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return new RequestRejectedError('REQUEST_TIMEOUT', 'The request did not arrive in time');
  const rule = code === 'HPE_HEADER_OVERFLOW' ? 'length' : 'pattern';
  return new ValidationError([
    { location: 'header', field: '', rule, message: 'the request head could not be read' },
  ]);
}
