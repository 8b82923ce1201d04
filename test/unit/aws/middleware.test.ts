import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createLogger } from '../../../lib/aws/logger';
import { forSqsBatches, functionHandler, httpAccessLog, httpErrorResponse, logContext, logRoute } from '../../../lib/aws/middleware';
import {
  ConflictError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  RetryableError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../../../lib/domain/errors';
import { apiGatewayRoutes } from '../../../lib/http/apigw';
import { createRouter, type Route } from '../../../lib/http/router';
import { json, type HttpRequest } from '../../../lib/http/types';
import { lambdaContext } from '../../support/lambda-context';
import { readLogLines, type LogLines } from '../../support/log-lines';
import { eventFixture } from '../../support/event-fixtures';

const REQUEST_ID = '3f1e2d4c-5b6a-4978-8a9b-0c1d2e3f4a5b';
const context = lambdaContext('cascade-dev-api', REQUEST_ID);

function event(method: string, path: string): APIGatewayProxyEventV2 {
  const e = eventFixture<APIGatewayProxyEventV2>('apigw-v2-list-runs.json');
  e.requestContext.http.method = method;
  e.rawPath = path;
  e.rawQueryString = '';
  return e;
}

/** A route for each path, failing with what `fail` gives; the Lambda path and the local server's serve the same table. */
function failingRoutes(fail: () => unknown): Route<null>[] {
  return [
    { method: 'GET', path: '/api/runs/{id}', handle: async () => { throw fail(); } },
    { method: 'POST', path: '/webhooks/{name}/{secret}', handle: async () => json(202, { accepted: 1, ignored: [] }) },
  ];
}

function httpFunction(routes: Route<null>[]) {
  const log = createLogger();
  return functionHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(
    middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
      .use(logContext(log))
      .use(httpAccessLog(log))
      .use(httpErrorResponse(log))
      .handler(apiGatewayRoutes(routes, null, { matched: logRoute(log) })),
  );
}

describe('httpErrorResponse', () => {
  let logs: LogLines;
  beforeEach(() => {
    logs = readLogLines();
  });
  afterEach(() => logs.restore());

  it.each<[string, Error, number, Record<string, unknown>]>([
    ['ValidationError', new ValidationError('registry must be a host name', 'registry'), 400, { code: 'invalid_input', message: 'registry must be a host name', field: 'registry' }],
    ['UnauthorizedError', new UnauthorizedError('X-Hub-Signature-256 does not match the body'), 401, { code: 'unauthorized', message: 'X-Hub-Signature-256 does not match the body' }],
    ['NotFoundError', new NotFoundError('run', 'da9'), 404, { code: 'not_found', message: 'run "da9" was not found' }],
    ['MethodNotAllowedError', new MethodNotAllowedError('PUT is not supported on /api/tasks'), 405, { code: 'method_not_allowed', message: 'PUT is not supported on /api/tasks' }],
    ['ConflictError', new ConflictError('task "helloworld" already exists'), 409, { code: 'conflict', message: 'task "helloworld" already exists' }],
    ['PayloadTooLargeError', new PayloadTooLargeError('webhook bodies are limited'), 413, { code: 'payload_too_large', message: 'webhook bodies are limited' }],
    ['UnsupportedMediaTypeError', new UnsupportedMediaTypeError('send application/json'), 415, { code: 'unsupported_media_type', message: 'send application/json' }],
    ['RetryableError', new RetryableError('SQS throttled the send; try again'), 503, { code: 'retryable', message: 'SQS throttled the send; try again' }],
  ])('answers a thrown %s with its status and the body the local server gives', async (_name, error, status, body) => {
    const answer = await httpFunction(failingRoutes(() => error))(event('GET', '/api/runs/da9'), context);
    expect(answer).toEqual({ statusCode: status, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: body }), isBase64Encoded: false });
    // One mapping: the local server's router answers the same.
    const local = await createRouter(failingRoutes(() => error), null)({ method: 'GET', path: '/api/runs/da9', query: {}, headers: {}, body: Buffer.alloc(0), receivedAt: '' } satisfies HttpRequest);
    expect([local.status, local.body]).toEqual([answer.statusCode, answer.body]);
  });

  it('answers an unexpected error 500 with nothing of its internals, and logs it with the request id', async () => {
    const internals = 'ECONNRESET talking to 10.0.3.7:8000 with token hunter2-internal';
    const answer = await httpFunction(failingRoutes(() => new TypeError(internals)))(event('GET', '/api/runs/da9'), context);
    expect(answer.statusCode).toBe(500);
    expect(JSON.parse(answer.body as string)).toEqual({ error: { code: 'internal', message: 'cascade failed unexpectedly; the details are in its logs' } });
    expect(answer.body).not.toContain('ECONNRESET');
    const [error, access] = logs.of(REQUEST_ID);
    expect(error).toMatchObject({ level: 'ERROR', message: 'unexpected error', function_name: 'cascade-dev-api', runId: 'da9', error: { name: 'TypeError', message: internals } });
    expect(access).toMatchObject({ level: 'INFO', message: 'answered', method: 'GET', status: 500, route: 'GET /api/runs/{id}', runId: 'da9' });
  });

  it('logs a named 5xx with the request id, and no 4xx', async () => {
    await httpFunction(failingRoutes(() => new NotFoundError('run', 'da9')))(event('GET', '/api/runs/da9'), context);
    expect(logs.of(REQUEST_ID).map((l) => l.level)).toEqual(['INFO']);
    await httpFunction(failingRoutes(() => new RetryableError('throttled')))(event('GET', '/api/runs/da9'), context);
    expect(logs.of(REQUEST_ID).map((l) => [l.level, l.message])).toEqual([
      ['INFO', 'answered'],
      ['ERROR', 'RetryableError: throttled'],
      ['INFO', 'answered'],
    ]);
  });
});

describe('httpAccessLog and logRoute', () => {
  let logs: LogLines;
  beforeEach(() => {
    logs = readLogLines();
  });
  afterEach(() => logs.restore());

  it("logs the route's template and ids, never a webhook's secret from the path", async () => {
    const secret = 'wh-path-secret-0123456789';
    const handle = httpFunction(failingRoutes(() => new Error('unused')));
    expect((await handle(event('POST', `/webhooks/base/${secret}`), context)).statusCode).toBe(202);
    const [line] = logs.of(REQUEST_ID);
    expect(line).toMatchObject({ message: 'answered', method: 'POST', status: 202, route: 'POST /webhooks/{name}/{secret}', webhook: 'base' });
    expect(JSON.stringify(logs.all())).not.toContain(secret);
  });

  it("drops one invocation's keys before the next", async () => {
    const handle = httpFunction(failingRoutes(() => new NotFoundError('run', 'da9')));
    await handle(event('GET', '/api/runs/da9'), context);
    await handle(event('GET', '/health'), lambdaContext('cascade-dev-api', 'second-request'));
    const [second] = logs.of('second-request');
    expect(second).toMatchObject({ status: 404 });
    expect(second).not.toHaveProperty('runId');
    expect(second).not.toHaveProperty('route');
  });
});

describe('forSqsBatches', () => {
  let logs: LogLines;
  beforeEach(() => {
    logs = readLogLines();
  });
  afterEach(() => logs.restore());

  /** Settles each record as its body says; anything else is a timer, answered or thrown. */
  const handle = functionHandler<unknown, unknown>(
    middy<unknown, unknown>()
      .use(forSqsBatches(sqsPartialBatchFailure({ logger: (_error: unknown, record: { messageId: string }) => createLogger().error('failed', { messageId: record.messageId }) })))
      .handler(async (event) => {
        const records = (event as { Records?: Array<{ body: string }> }).Records;
        if (records) return Promise.allSettled(records.map(async (r) => (r.body === 'fail' ? Promise.reject(new Error('no')) : undefined)));
        if ((event as { fail?: boolean }).fail) throw new RetryableError('the timer fails');
        return { fired: true };
      }),
  );

  it('reports the records that failed, by message id', async () => {
    const batch = { Records: [{ messageId: 'm1', body: 'ok' }, { messageId: 'm2', body: 'fail' }] };
    await expect(handle(batch)).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(logs.all()).toEqual([expect.objectContaining({ level: 'ERROR', messageId: 'm2' })]);
    await expect(handle({ Records: [] })).resolves.toEqual({ batchItemFailures: [] });
  });

  it("leaves a timer invocation's answer and error alone, so that Scheduler retries a failure", async () => {
    await expect(handle({ cascadeTimer: {} })).resolves.toEqual({ fired: true });
    await expect(handle({ fail: true })).rejects.toMatchObject({ name: 'RetryableError' });
  });
});
