// The API function: every route in apiRoutes (serverless.yml declares the same ones).
import { httpFunction } from '../lib/aws/http-function';
import { logger, type Logger } from '../lib/aws/logger';
import { awsCascade, type CascadeSource } from '../lib/aws/wiring';
import { apiRoutes } from '../lib/http/api-routes';

export const createApiHandler = (cascade: CascadeSource, log: Logger = logger) => httpFunction(apiRoutes, cascade, log);

export const handler = createApiHandler(awsCascade);
