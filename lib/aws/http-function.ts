// The two HTTP API functions (api, webhook) are one shape with other routes: middy with the
// Lambda context on every line, one access line per request, thrown errors mapped to answers,
// and the routes, wired on the first request.
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Cascade } from '../domain/cascade';
import { apiGatewayRoutes } from '../http/apigw';
import type { Route } from '../http/router';
import type { Logger } from './logger';
import { functionHandler, httpAccessLog, httpErrorResponse, logContext, logRoute } from './middleware';
import { cascadeOf, lazy, type CascadeSource } from './wiring';

export function httpFunction(routes: Route<Cascade>[], cascade: CascadeSource, log: Logger) {
  const route = lazy(() => apiGatewayRoutes(routes, cascadeOf(cascade), { matched: logRoute(log) }));
  return functionHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(
    middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
      .use(logContext(log))
      .use(httpAccessLog(log))
      .use(httpErrorResponse(log))
      .handler((event) => route()(event)),
  );
}
