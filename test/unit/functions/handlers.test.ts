// The exported Lambda handlers themselves: middy around the factories, wired from the
// environment on first use. Only calls that need no AWS service are made here.
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { eventFixture } from '../../support/event-fixtures';

const ENV = {
  TABLE_NAME: 'cascade-dev',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/cascade-dev',
  CODEBUILD_PROJECT: 'cascade-dev',
  SECRETS_PREFIX: '/cascade/dev',
  PUBLIC_URL: 'https://r4nd0m1d.execute-api.eu-west-1.amazonaws.com',
  AWS_REGION: 'eu-west-1',
};

const context = {
  functionName: 'cascade-dev-api',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  getRemainingTimeInMillis: () => 29_000,
} as unknown as Context;

function load<T extends object>(path: string): T {
  let module: T | undefined;
  jest.isolateModules(() => {
    module = jest.requireActual<T>(path);
  });
  if (!module) throw new Error(`${path} did not load`);
  return module;
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

describe('exported handlers', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  function health(): APIGatewayProxyEventV2 {
    const event = eventFixture<APIGatewayProxyEventV2>('apigw-v2-list-runs.json');
    event.rawPath = '/health';
    event.rawQueryString = '';
    return event;
  }

  it('api answers /health through middy', async () => {
    Object.assign(process.env, ENV);
    const { handler } = load<{ handler: Handler }>('../../../functions/api');
    await expect(handler(health(), context)).resolves.toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"status":"ok"}',
      isBase64Encoded: false,
    });
  });

  it('api answers 500 naming the variable when the environment is incomplete, and logs it with the request id', async () => {
    Object.assign(process.env, ENV);
    delete process.env.QUEUE_URL;
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const { handler } = load<{ handler: Handler }>('../../../functions/api');
    const answer = (await handler(health(), context)) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(500);
    expect(JSON.parse(answer.body).error).toEqual({ code: 'configuration', message: expect.stringContaining('QUEUE_URL is not set') });
    const [line] = errors.mock.calls.map((c) => JSON.parse(c[0] as string));
    expect(line).toMatchObject({ level: 'ERROR', function_request_id: context.awsRequestId, error: { name: 'ConfigurationError', problems: ['QUEUE_URL is not set'] } });
    errors.mockRestore();
  });

  it('webhook serves only the webhook routes', async () => {
    Object.assign(process.env, ENV);
    const { handler } = load<{ handler: Handler }>('../../../functions/webhook');
    await expect(handler(health(), context)).resolves.toMatchObject({ statusCode: 404 });
  });

  it('dispatcher answers an empty batch with no failures', async () => {
    Object.assign(process.env, ENV);
    const { handler } = load<{ handler: Handler }>('../../../functions/dispatcher');
    await expect(handler({ Records: [] }, context)).resolves.toEqual({ batchItemFailures: [] });
  });

  it("buildEvents takes the project from CODEBUILD_PROJECT and ignores other projects' builds", async () => {
    Object.assign(process.env, ENV, { CODEBUILD_PROJECT: 'cascade-prod' });
    const { handler } = load<{ handler: Handler }>('../../../functions/build-events');
    await expect(handler(eventFixture('buildEvents.json'), context)).resolves.toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('belongs to project cascade-dev, not cascade-prod'),
    });
  });
});
