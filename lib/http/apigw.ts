// API Gateway HTTP API (payload format 2.0) events to the transport-neutral HttpRequest, and
// HttpResponse back to the structured result API Gateway expects.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { routeRequests, type Route, type RouterOptions } from './router';
import type { HttpRequest, HttpResponse } from './types';

export function fromApiGatewayEvent(event: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  // Signatures are computed over the bytes the sender sent: base64 bodies are decoded, text
  // bodies are valid UTF-8 (API Gateway base64-encodes anything else), so both round-trip exactly.
  const body = event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  const epoch = event.requestContext.timeEpoch;
  return {
    method: event.requestContext.http.method,
    path: routablePath(event.rawPath, event.requestContext.stage),
    // rawQueryString keeps repeated keys and encoding; the local server reads queries the same way.
    query: Object.fromEntries(new URLSearchParams(event.rawQueryString ?? '')),
    headers,
    body,
    receivedAt: (Number.isFinite(epoch) ? new Date(epoch) : new Date()).toISOString(),
  };
}

export function toApiGatewayResult(response: HttpResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: response.status, headers: response.headers, body: response.body, isBase64Encoded: false };
}

/**
 * HTTP APIs hand over rawPath already percent-decoded (`/api/registries/127.0.0.1:5000/login`),
 * with a named stage in front. The router decodes each segment itself, so segments are encoded
 * again: a decoded `%` or space must not be read as an escape a second time.
 */
function routablePath(rawPath: string, stage: string): string {
  let path = rawPath || '/';
  if (stage && stage !== '$default') {
    const prefix = `/${stage}`;
    if (path === prefix) path = '/';
    else if (path.startsWith(`${prefix}/`)) path = path.slice(prefix.length);
  }
  return path
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

/**
 * A Lambda handler serving `routes` over an HTTP API. A failure is thrown: the function's error
 * middleware answers it (lib/aws/middleware.ts).
 */
export function apiGatewayRoutes<C>(
  routes: Route<C>[],
  context: C,
  options: RouterOptions<C> = {},
): (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2> {
  const route = routeRequests(routes, context, options);
  return async (event) => toApiGatewayResult(await route(fromApiGatewayEvent(event)));
}
