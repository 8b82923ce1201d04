import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { apiGatewayRoutes, fromApiGatewayEvent, toApiGatewayResult } from '../../../lib/http/apigw';
import type { Route } from '../../../lib/http/router';
import { json } from '../../../lib/http/types';
import { eventFixture } from '../../support/event-fixtures';

const v2 = (file: string) => eventFixture<APIGatewayProxyEventV2>(file);

describe('fromApiGatewayEvent', () => {
  it('reads a JSON POST: method, path, lower-case headers, the body bytes, the time API Gateway received it', () => {
    const event = v2('api.json');
    const request = fromApiGatewayEvent(event);
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/api/tasks');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-forwarded-proto']).toBe('https');
    expect(request.body.equals(Buffer.from(event.body as string, 'utf8'))).toBe(true);
    expect(JSON.parse(request.body.toString('utf8')).name).toBe('helloworld');
    expect(request.receivedAt).toBe('2026-11-28T05:00:00.000Z');
  });

  it('lower-cases header names even when a hand-written event does not', () => {
    const event = v2('api.json');
    event.headers = { 'Content-Type': 'application/json', 'X-GitHub-Event': 'push' };
    expect(fromApiGatewayEvent(event).headers).toEqual({ 'content-type': 'application/json', 'x-github-event': 'push' });
  });

  it('reads the query from rawQueryString, the way the local server does (last repeated key wins)', () => {
    const request = fromApiGatewayEvent(v2('apigw-v2-list-runs.json'));
    expect(request.query).toEqual({ task: 'helloworld', top: '2' });
    expect(request.body.length).toBe(0);
  });

  it('decodes a base64 body to the exact bytes the sender signed', () => {
    const request = fromApiGatewayEvent(v2('webhook.json'));
    const original = readFileSync(join(__dirname, '..', '..', 'fixtures', 'webhooks', 'github', 'goplayground-push-branch.json'));
    expect(request.body.equals(original)).toBe(true);
    expect(request.headers['x-hub-signature-256']).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('drops a named stage from the path and re-encodes the decoded segments HTTP APIs deliver', () => {
    const request = fromApiGatewayEvent(v2('apigw-v2-registry-login-stage.json'));
    expect(request.path).toBe('/api/registries/registry.example.com%3A5000/login');
    expect(decodeURIComponent(request.path.split('/')[3] as string)).toBe('registry.example.com:5000');
    expect(JSON.parse(request.body.toString('utf8'))).toEqual({ username: 'ci', password: 'pa55-wörd' });
  });

  it.each([
    ['$default', '/prod/health', '/prod/health'],
    ['prod', '/prod', '/'],
    ['prod', '/production/health', '/production/health'],
    ['$default', '/api/tasks/a b%c', '/api/tasks/a%20b%25c'],
    ['$default', '', '/'],
  ])('stage %s, rawPath %j is routed as %j', (stage, rawPath, expected) => {
    const event = v2('apigw-v2-list-runs.json');
    event.rawPath = rawPath;
    event.requestContext.stage = stage;
    expect(fromApiGatewayEvent(event).path).toBe(expected);
  });

  it('has an empty body when the event has none', () => {
    const event = v2('apigw-v2-list-runs.json');
    delete event.body;
    expect(fromApiGatewayEvent(event).body).toEqual(Buffer.alloc(0));
  });
});

describe('toApiGatewayResult', () => {
  it('carries status, headers and body, never base64', () => {
    expect(toApiGatewayResult(json(201, { ok: true }))).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/json' },
      body: '{"ok":true}',
      isBase64Encoded: false,
    });
  });
});

describe('apiGatewayRoutes', () => {
  const seen: Array<{ params: Record<string, string>; body: string }> = [];
  const routes: Route<string>[] = [
    {
      method: 'PUT',
      path: '/api/registries/{host}/login',
      handle: async (request, params, context) => {
        seen.push({ params, body: request.body.toString('utf8') });
        return json(200, { context, host: params.host });
      },
    },
  ];

  it('routes the event and shapes the answer', async () => {
    const handle = apiGatewayRoutes(routes, 'ctx');
    const result = await handle(v2('apigw-v2-registry-login-stage.json'));
    expect(result).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ context: 'ctx', host: 'registry.example.com:5000' }),
      isBase64Encoded: false,
    });
    expect(seen.at(-1)?.params).toEqual({ host: 'registry.example.com:5000' });
  });

  it("throws the router's NotFoundError for an unknown route, for the function's error middleware to answer", async () => {
    await expect(apiGatewayRoutes(routes, 'ctx')(v2('apigw-v2-list-runs.json'))).rejects.toMatchObject({ name: 'NotFoundError', status: 404 });
  });
});
