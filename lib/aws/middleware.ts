// The middy middlewares of cascade's functions, what a matched route tells their log, and how a
// function is typed to its callers.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { MiddlewareObj, MiddyfiedHandler, Request } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { toApiGatewayResult } from '../http/apigw';
import { errorResponse } from '../http/error-response';
import type { Route } from '../http/router';
import { errorKey, type Logger, type LogKeys } from './logger';

/** A function as its callers see it: Lambda passes a context; tests and tools may leave it out. */
export type FunctionHandler<E, R> = (event: E, context?: Context) => Promise<R>;

/**
 * middy's handler typed as it behaves: without a context, middy gives its middlewares an empty
 * one, and its third parameter is never read.
 */
export function functionHandler<E, R>(handler: MiddyfiedHandler<E>): FunctionHandler<E, R> {
  return handler as unknown as FunctionHandler<E, R>;
}

/** Request id, cold start and function name on every line; keys appended during an invocation go with it. */
export function logContext(log: Logger): MiddlewareObj {
  // Powertools types its middleware for every middy major; middy 6's use() infers from its own type.
  return injectLambdaContext(log, { resetKeys: true }) as MiddlewareObj;
}

type HttpMiddleware = MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

/**
 * A thrown error becomes its HTTP answer through the one mapping (lib/http/error-response.ts): a
 * named error its status and code, anything else a 500 that tells nothing of internals and is
 * logged here, with the request id.
 */
export function httpErrorResponse(log: Logger): HttpMiddleware {
  return {
    onError: (request) => {
      request.response = toApiGatewayResult(errorResponse(request.error, (message, error) => log.error(message, errorKey(error))));
    },
  };
}

/** One line per HTTP request, with its status. Use it before httpErrorResponse, so that it sees the mapped answer. */
export function httpAccessLog(log: Logger): HttpMiddleware {
  const answered = (request: { event: APIGatewayProxyEventV2; response: APIGatewayProxyStructuredResultV2 | null }) => {
    log.info('answered', { method: request.event.requestContext?.http?.method, status: request.response?.statusCode });
  };
  return { after: answered, onError: answered };
}

/**
 * What a matched route puts on the invocation's lines: its template and the ids in its path. Never
 * the path itself, nor the `{secret}` parameter: a webhook's path can carry its secret.
 */
export function logRoute(log: Logger): (route: Pick<Route<unknown>, 'method' | 'path'>, params: Record<string, string>) => void {
  return (route, params) => {
    const keys: LogKeys = { route: `${route.method} ${route.path}` };
    if (params.id !== undefined) keys.runId = params.id;
    if (params.name !== undefined) keys[route.path.includes('/webhooks/') ? 'webhook' : route.path.includes('/notifications/') ? 'notification' : 'task'] = params.name;
    if (params.timer !== undefined) keys.timer = params.timer;
    log.appendKeys(keys);
  };
}

/**
 * `middleware` for SQS batches only. The dispatcher is also invoked by EventBridge Scheduler with
 * one timer occurrence: its answer and its errors must pass through untouched (a partial batch
 * response would swallow an error that Scheduler is meant to retry).
 */
export function forSqsBatches(middleware: MiddlewareObj): MiddlewareObj {
  const onlyForBatches = (hook: MiddlewareObj['after']) => hook && ((request: Request) => (isSqsBatch(request.event) ? hook(request) : undefined));
  return { before: onlyForBatches(middleware.before), after: onlyForBatches(middleware.after), onError: onlyForBatches(middleware.onError) };
}

function isSqsBatch(event: unknown): boolean {
  return typeof event === 'object' && event !== null && Array.isArray((event as { Records?: unknown }).Records);
}
