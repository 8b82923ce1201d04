// `cascade console`: the web console for a deployed stack, served on loopback. The page and its
// files come from here; its API calls (`/api/...`) are forwarded to CASCADE_API by the CLI's own
// client, which signs each with the user's AWS credentials (SigV4) or sends their token: the
// browser never holds either. Only pages of this origin may call the API through it: a request
// must name this server by a loopback Host, and a browser's Origin and Sec-Fetch-Site must say
// same-origin, so another site open in the same browser (or one rebinding its DNS name to
// 127.0.0.1) cannot drive the API with the user's credentials.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CascadeApiClient } from '../cli/api-client';
import { CascadeError, PayloadTooLargeError } from '../domain/errors';
import { errorResponse } from '../http/error-response';
import type { HttpResponse } from '../http/types';
import { isLoopbackHost } from '../images/reference';
import { checkSameOrigin } from '../local/access';
import { isConsolePath, serveConsole } from './console-routes';

/** The address the console listens on: never anything but loopback. */
export const CONSOLE_HOST = '127.0.0.1';
/** API request bodies the console forwards are small JSON documents. */
export const MAX_FORWARDED_BODY_BYTES = 1024 * 1024;
/** Response headers passed back from the API (the rest, e.g. API Gateway's, stay behind). */
const PASSED_BACK = ['content-type', 'www-authenticate', 'retry-after'];

export class ConsoleHostError extends CascadeError {
  readonly status = 421;
  readonly code = 'misdirected_request';
}

export interface ConsoleServerOptions {
  /** 0 for a free port. */
  port: number;
  api: CascadeApiClient;
  /** Told of each forwarded call and of failures. */
  log?: (line: string) => void;
}

export interface ConsoleServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const log = options.log ?? (() => undefined);
  let port = 0;
  const server = createServer((incoming, outgoing) => {
    void answer(incoming, outgoing, options.api, port, log).catch((error: unknown) => {
      log(`cascade console: ${incoming.method} ${incoming.url} failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!outgoing.headersSent) send(outgoing, errorResponse(error, () => undefined));
      else outgoing.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, CONSOLE_HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${CONSOLE_HOST}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(incoming: IncomingMessage, outgoing: ServerResponse, api: CascadeApiClient, port: number, log: (line: string) => void): Promise<void> {
  const method = incoming.method ?? 'GET';
  const url = new URL(incoming.url ?? '/', 'http://console.invalid');
  const header = (name: string) => {
    const value = incoming.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  try {
    checkHost(header('host'), port);
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      // Its own origin only: the Origin must be this very host and port.
      const ownHost = (header('host') as string).toLowerCase();
      checkSameOrigin({ origin: header('origin'), 'sec-fetch-site': header('sec-fetch-site') }, (originHost) => originHost.toLowerCase() === ownHost, 'cascade console');
      const body = await readBody(incoming);
      const response = await api.forward(method, `${url.pathname}${url.search}`, {
        body,
        contentType: header('content-type'),
        authorization: header('authorization'),
      });
      log(`cascade console: ${method} ${url.pathname} ${response.status}`);
      const bytes = Buffer.from(await response.arrayBuffer());
      const headers: Record<string, string> = { 'cache-control': 'no-store', 'content-length': String(bytes.length) };
      for (const name of PASSED_BACK) {
        const value = response.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      outgoing.writeHead(response.status, headers);
      outgoing.end(bytes);
      return;
    }
    incoming.resume();
    send(outgoing, isConsolePath(url.pathname) ? await serveConsole({ method, path: url.pathname }) : errorResponse(new ConsoleNotFoundError(url.pathname)));
  } catch (error) {
    incoming.resume();
    send(outgoing, errorResponse(error, (message) => log(`cascade console: ${message}`)));
  }
}

class ConsoleNotFoundError extends CascadeError {
  readonly status = 404;
  readonly code = 'not_found';
  constructor(path: string) {
    super(`cascade console serves the console under /console/ and forwards /api/; nothing is at ${path}`);
  }
}

/** The request names this server by a loopback name and its port: not a DNS name rebound to 127.0.0.1. */
function checkHost(host: string | undefined, port: number): void {
  const match = host === undefined ? null : /^(.*):(\d+)$/.exec(host.trim());
  if (match && Number(match[2]) === port && isLoopbackHost(host as string)) return;
  throw new ConsoleHostError(`cascade console answers only for 127.0.0.1:${port} or localhost:${port}, not for the host "${host ?? ''}"`);
}

async function readBody(incoming: IncomingMessage): Promise<Uint8Array | undefined> {
  if (Number(incoming.headers['content-length'] ?? 0) > MAX_FORWARDED_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORWARDED_BODY_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return size === 0 ? undefined : Buffer.concat(chunks);
}

function tooLarge(): PayloadTooLargeError {
  return new PayloadTooLargeError(`cascade console forwards request bodies of up to ${MAX_FORWARDED_BODY_BYTES} bytes`);
}

function send(outgoing: ServerResponse, response: HttpResponse): void {
  outgoing.writeHead(response.status, response.headers);
  outgoing.end(response.body);
}
