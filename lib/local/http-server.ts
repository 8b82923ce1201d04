// The local HTTP server: node's http module in front of the same routers the Lambda functions use.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_WEBHOOK_BODY_BYTES } from '../domain/webhook-service';
import type { HttpRequest, HttpResponse } from '../http/types';

export type RequestHandler = (request: HttpRequest) => Promise<HttpResponse>;

export interface LocalServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startHttpServer(handler: RequestHandler, options: { port: number; host?: string }): Promise<LocalServer> {
  const server: Server = createServer((incoming, outgoing) => {
    void (async () => {
      const response = await readRequest(incoming).then(handler, (error: Error & { status?: number }) => ({
        status: error.status ?? 400,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: { code: 'payload_too_large', message: error.message } }),
      }));
      outgoing.writeHead(response.status, response.headers);
      outgoing.end(response.body);
    })().catch((error: unknown) => {
      console.error(JSON.stringify({ level: 'error', message: 'request failed', error: String(error) }));
      if (!outgoing.headersSent) outgoing.writeHead(500, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ error: { code: 'internal', message: 'cascade failed unexpectedly' } }));
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Reads the body, refusing early (413) once it passes the webhook limit, as API Gateway would. */
async function readRequest(incoming: IncomingMessage): Promise<HttpRequest> {
  const url = new URL(incoming.url ?? '/', 'http://localhost');
  const declared = Number(incoming.headers['content-length'] ?? 0);
  if (declared > MAX_WEBHOOK_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    size += (chunk as Buffer).length;
    if (size > MAX_WEBHOOK_BODY_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    method: incoming.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    body: Buffer.concat(chunks),
    receivedAt: new Date().toISOString(),
  };
}

function tooLarge(): Error & { status: number } {
  return Object.assign(new Error(`request bodies are limited to ${MAX_WEBHOOK_BODY_BYTES} bytes`), { status: 413 });
}
