// The webhook function: registries and git hosts post here. It verifies, normalizes and queues;
// the dispatcher does the rest, so providers get their 202 fast.
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { awsCascade, lazy } from '../lib/aws/wiring';
import type { Cascade } from '../lib/domain/cascade';
import { webhookRoutes } from '../lib/http/api-routes';
import { apiGatewayHandler } from '../lib/http/apigw';

export const createWebhookHandler = (cascade: Cascade) => apiGatewayHandler(webhookRoutes, cascade);

const webhook = lazy(() => createWebhookHandler(awsCascade()));

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler((event) => webhook()(event));
