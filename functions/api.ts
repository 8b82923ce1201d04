// The API function: every route in apiRoutes (serverless.yml declares the same ones).
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { awsCascade, lazy } from '../lib/aws/wiring';
import type { Cascade } from '../lib/domain/cascade';
import { apiRoutes } from '../lib/http/api-routes';
import { apiGatewayHandler } from '../lib/http/apigw';

export const createApiHandler = (cascade: Cascade) => apiGatewayHandler(apiRoutes, cascade);

const api = lazy(() => createApiHandler(awsCascade()));

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler((event) => api()(event));
