// The local HTTP server: node's http (or https) module in front of the same routers the Lambda
// functions use. A request refused before its body is read (too large, a host it does not answer
// for, no token) is answered at once with `Connection: close`, and the rest of its body is read
// and thrown away before the connection closes: a sender that writes the whole body before
// reading (urllib, a registry's notifier) then reads the status instead of a reset.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { PayloadTooLargeError } from '../domain/errors';
import { MAX_WEBHOOK_BODY_BYTES } from '../domain/webhook-service';
import { errorResponse } from '../http/error-response';
import type { HttpRequest, HttpResponse } from '../http/types';
import type { RequestHead } from './access';

export type RequestHandler = (request: HttpRequest) => Promise<HttpResponse>;

export interface LocalServer {
  /** Where this machine reaches the server (loopback when it listens on every address). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface HttpServerOptions {
  port: number;
  /** The address to listen on; 127.0.0.1 when absent. */
  host?: string;
  /** PEM files: the server speaks HTTPS with them. */
  tls?: { certFile: string; keyFile: string };
  /** Looks at each request's head before its body is read: an answer refuses the request. */
  screen?: (head: RequestHead) => Promise<HttpResponse | undefined>;
}

/** A refused request's body is read this far, and this long, before the connection is cut anyway. */
export const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;
export const DISCARD_LIMIT_MS = 30_000;

export async function startHttpServer(handler: RequestHandler, options: HttpServerOptions): Promise<LocalServer> {
  const host = options.host ?? '127.0.0.1';
  const serve = (incoming: IncomingMessage, outgoing: ServerResponse) => {
    void answer(incoming, outgoing, handler, options.screen).catch((error: unknown) => {
      console.error(JSON.stringify({ level: 'error', message: 'request failed', error: String(error) }));
      if (!outgoing.headersSent) outgoing.writeHead(500, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ error: { code: 'internal', message: 'cascade failed unexpectedly' } }));
    });
  };
  const server: Server = options.tls
    ? createTlsServer({ cert: await readFile(options.tls.certFile), key: await readFile(options.tls.keyFile) }, serve)
    : createServer(serve);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `${options.tls ? 'https' : 'http'}://${urlHost(host)}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(incoming: IncomingMessage, outgoing: ServerResponse, handler: RequestHandler, screen: HttpServerOptions['screen']): Promise<void> {
  const receivedAt = new Date().toISOString();
  const url = new URL(incoming.url ?? '/', 'http://localhost');
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(incoming.headers)) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  const head: RequestHead = { method: incoming.method ?? 'GET', path: url.pathname, headers };

  const refusal = (await screen?.(head)) ?? (Number(headers['content-length'] ?? 0) > MAX_WEBHOOK_BODY_BYTES ? tooLarge() : undefined);
  if (refusal) return refuse(incoming, outgoing, refusal);
  const body = await readBody(incoming);
  if (body === undefined) return refuse(incoming, outgoing, tooLarge());
  const response = await handler({ ...head, query: Object.fromEntries(url.searchParams), body, receivedAt });
  outgoing.writeHead(response.status, response.headers);
  outgoing.end(response.body);
}

/** The body, or undefined once it passes the webhook limit (the rest is left unread). */
async function readBody(incoming: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming.iterator({ destroyOnReturn: false })) {
    size += (chunk as Buffer).length;
    if (size > MAX_WEBHOOK_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Answers now, and closes once the sender has finished sending (or has sent too much, or for too long). */
function refuse(incoming: IncomingMessage, outgoing: ServerResponse, response: HttpResponse): void {
  const body = Buffer.from(response.body, 'utf8');
  outgoing.writeHead(response.status, { ...response.headers, connection: 'close', 'content-length': String(body.length) });
  outgoing.write(body);
  if (incoming.complete) {
    outgoing.end();
    return;
  }
  let discarded = 0;
  const cut = () => {
    clearTimeout(timer);
    incoming.socket.destroy();
  };
  const timer = setTimeout(cut, DISCARD_LIMIT_MS);
  timer.unref();
  incoming.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_LIMIT_BYTES) cut();
  });
  incoming.once('end', () => {
    clearTimeout(timer);
    outgoing.end();
  });
  incoming.once('aborted', () => clearTimeout(timer));
  incoming.resume();
}

function tooLarge(): HttpResponse {
  return errorResponse(new PayloadTooLargeError(`request bodies are limited to ${MAX_WEBHOOK_BODY_BYTES} bytes`));
}

/** The host part of the server's own URL: loopback when it listens everywhere, IPv6 in brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
