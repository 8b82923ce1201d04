// A small, explicit router: a route is a method, a path pattern with {params}, and a handler.
import { MethodNotAllowedError, NotFoundError, ValidationError } from '../domain/errors';
import { errorResponse } from './error-response';
import type { HttpRequest, HttpResponse } from './types';

export interface Route<C> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  handle(request: HttpRequest, params: Record<string, string>, context: C): Promise<HttpResponse>;
}

interface Compiled<C> {
  route: Route<C>;
  pattern: RegExp;
  names: string[];
}

export interface RouterOptions<C> {
  /** Told of the route a request matched, and its parameters, before the route runs. */
  matched?: (route: Route<C>, params: Record<string, string>) => void;
}

/**
 * Runs the route a request matches. A failure is thrown, for the transport to answer with
 * errorResponse: a middy middleware on Lambda, createRouter for the local server.
 */
export function routeRequests<C>(routes: Route<C>[], context: C, options: RouterOptions<C> = {}): (request: HttpRequest) => Promise<HttpResponse> {
  const compiled: Compiled<C>[] = routes.map((route) => {
    const names: string[] = [];
    const source = route.path
      .split('/')
      .map((segment) => {
        const param = /^\{(\w+)\}$/.exec(segment);
        if (!param) return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
        names.push(param[1] as string);
        return '([^/]+)';
      })
      .join('/');
    return { route, pattern: new RegExp(`^${source}/?$`), names };
  });

  return async (request) => {
    let pathMatched = false;
    for (const { route, pattern, names } of compiled) {
      const match = pattern.exec(request.path);
      if (!match) continue;
      pathMatched = true;
      if (route.method !== request.method.toUpperCase()) continue;
      const params: Record<string, string> = {};
      names.forEach((name, i) => {
        params[name] = decodeSegment(match[i + 1] as string);
      });
      options.matched?.(route, params);
      return route.handle(request, params, context);
    }
    if (pathMatched) throw new MethodNotAllowedError(`${request.method} is not supported on ${request.path}`);
    throw new NotFoundError('route', `${request.method} ${request.path}`);
  };
}

/** The routes with every failure answered by errorResponse: for a server with no middleware, the local one. */
export function createRouter<C>(routes: Route<C>[], context: C): (request: HttpRequest) => Promise<HttpResponse> {
  const route = routeRequests(routes, context);
  return async (request) => {
    try {
      return await route(request);
    } catch (error) {
      return errorResponse(error);
    }
  };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ValidationError(`path segment "${segment}" is not valid percent-encoding`);
  }
}

/** Parses a JSON request body; an empty body is `{}`. */
export function jsonBody(request: HttpRequest): unknown {
  if (request.body.length === 0) return {};
  const type = (request.headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new ValidationError(`send the body as application/json, not ${type}`, 'content-type');
  try {
    return JSON.parse(request.body.toString('utf8'));
  } catch (error) {
    throw new ValidationError(`the body is not valid JSON: ${(error as Error).message}`, 'body');
  }
}
