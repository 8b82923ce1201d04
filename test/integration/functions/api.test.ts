import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createApiHandler } from '../../../functions/api';
import { eventFixture } from '../../support/event-fixtures';
import { cascadePerTest, ECR_APP, ECR_BASE, helloworldTask, type TestCascade } from '../../support/cascade-on-dynamodb';

const body = (result: APIGatewayProxyStructuredResultV2) => JSON.parse(result.body as string);

function request(method: string, path: string, payload?: unknown, rawQueryString = ''): APIGatewayProxyEventV2 {
  const event = eventFixture<APIGatewayProxyEventV2>('api.json');
  event.requestContext.http.method = method;
  event.rawPath = path;
  event.rawQueryString = rawQueryString;
  event.routeKey = `${method} ${path}`;
  if (payload === undefined) delete event.body;
  else event.body = JSON.stringify(payload);
  return event;
}

describe('functions/api', () => {
  const current = cascadePerTest();
  let t: TestCascade;
  let handle: ReturnType<typeof createApiHandler>;

  beforeEach(() => {
    t = current();
    handle = createApiHandler(t.cascade);
  });

  it('creates a task from a real-shaped HTTP API event and stores it', async () => {
    const result = await handle(eventFixture('api.json'));
    expect(result.statusCode).toBe(201);
    expect(result.headers).toEqual({ 'content-type': 'application/json' });
    expect(body(result)).toMatchObject({ name: 'helloworld', registry: ECR_APP, dockerfile: 'Dockerfile-app', buildArgs: { REGISTRY_NAME: ECR_BASE } });
    expect(await t.stores.tasks.get('helloworld')).toMatchObject({
      context: { kind: 'git', url: 'https://github.com/example/acr-build-helloworld-node.git', branch: 'main', folder: '.' },
    });

    const again = await handle(eventFixture('api.json'));
    expect(again.statusCode).toBe(409);
  });

  it('runs a task: a run is created in DynamoDB and its build started, then listed and shown', async () => {
    await t.cascade.tasks.create(helloworldTask());
    const started = await handle(request('POST', '/api/tasks/helloworld/runs'));
    expect(started.statusCode).toBe(202);
    expect(body(started)).toMatchObject({ id: 'da1', status: 'Running', trigger: 'Manual', taskName: 'helloworld' });
    expect(t.builder.started).toHaveLength(1);
    expect(t.builder.started[0]?.spec.images).toEqual(['helloworld:da1']);

    const listed = await handle(eventFixture('apigw-v2-list-runs.json'));
    expect(listed.statusCode).toBe(200);
    expect(body(listed).runs.map((r: { id: string }) => r.id)).toEqual(['da1']);

    const shown = await handle(request('GET', '/api/runs/da1'));
    expect(body(shown)).toMatchObject({ id: 'da1', buildId: 'cascade-dev:00000000-0000-4000-8000-000000000001' });

    await t.logs.append('da1', 'step 1\nstep 2\n');
    const log = await handle(request('GET', '/api/runs/da1/log', undefined, 'offset=7'));
    expect(log).toMatchObject({ statusCode: 200, body: 'step 2\n', headers: { 'content-type': 'text/plain; charset=utf-8' } });
  });

  it('stores a registry login sent through a named stage, answering 204 with nothing of the password', async () => {
    const result = await handle(eventFixture('apigw-v2-registry-login-stage.json'));
    expect(result).toEqual({ statusCode: 204, headers: {}, body: '', isBase64Encoded: false });
    expect(await t.cascade.registryLogins.get('registry.example.com:5000')).toEqual({ username: 'ci', password: 'pa55-wörd' });
  });

  it('answers bad input with 400 naming the field, unknown routes with 404, wrong methods with 405', async () => {
    const bad = await handle(request('POST', '/api/tasks', { ...helloworldTask(), registry: 'not a host' }));
    expect(bad.statusCode).toBe(400);
    expect(body(bad).error).toMatchObject({ code: 'invalid_input' });

    const missing = await handle(request('GET', '/api/tasks/nope'));
    expect(missing.statusCode).toBe(404);
    expect(body(missing).error.message).toBe('task "nope" was not found');

    expect((await handle(request('GET', '/webhooks/x'))).statusCode).toBe(404);
    expect((await handle(request('PUT', '/api/tasks'))).statusCode).toBe(405);
  });

  it('answers GET /health', async () => {
    expect(body(await handle(request('GET', '/health')))).toEqual({ status: 'ok' });
  });
});
