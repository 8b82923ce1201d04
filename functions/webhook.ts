// The webhook function: registries and git hosts post here. It verifies, normalizes and queues;
// the dispatcher does the rest, so providers get their 202 fast.
import { httpFunction } from '../lib/aws/http-function';
import { logger, type Logger } from '../lib/aws/logger';
import { awsCascade, type CascadeSource } from '../lib/aws/wiring';
import { webhookRoutes } from '../lib/http/api-routes';

export const createWebhookHandler = (cascade: CascadeSource, log: Logger = logger) => httpFunction(webhookRoutes, cascade, log);

export const handler = createWebhookHandler(awsCascade);
