// The local stack's line per request: changes and refusals are said, reads that went well are not.
import { redactPath, worthLogging } from '../../../lib/local/request-log';

it.each<[string, string, number, boolean]>([
  ['GET', '/api/runs', 200, false],
  ['GET', '/console/runs', 200, false],
  ['HEAD', '/console/assets/app.js', 304, false],
  ['GET', '/health', 200, false],
  ['GET', '/api/runs/da9', 404, true],
  ['GET', '/api/tasks', 401, true],
  ['GET', '/api/tasks', 421, true],
  ['GET', '/api/graph', 500, true],
  ['POST', '/api/tasks/app/runs', 202, true],
  ['POST', '/webhooks/hub', 202, true],
  ['PATCH', '/api/tasks/app', 200, true],
  ['DELETE', '/api/tokens/ci', 204, true],
])('%s %s %i is logged: %s', (method, path, status, logged) => {
  expect(worthLogging(method, path, status)).toBe(logged);
});

it.each([
  ['/webhooks/hub/s3cr3t', '/webhooks/hub/***'],
  ['/webhooks/hub', '/webhooks/hub'],
  ['/api/webhooks/hub', '/api/webhooks/hub'],
])('logs %s as %s', (path, shown) => {
  expect(redactPath(path)).toBe(shown);
});
