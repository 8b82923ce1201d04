// Every route of cascade's HTTP API. serverless.yml declares the same paths; the local server
// serves this table as it is.
import type { Cascade } from '../domain/cascade';
import { ValidationError } from '../domain/errors';
import type { Run, Task } from '../domain/types';
import {
  addCredentialSchema,
  addNotificationSchema,
  addTimerSchema,
  createTaskSchema,
  createWebhookSchema,
  explainQuerySchema,
  graphQuerySchema,
  hostSchema,
  listDeliveriesQuerySchema,
  listRunsQuerySchema,
  parseInput,
  quickBuildSchema,
  registryLoginSchema,
  runTaskSchema,
  updateTaskSchema,
  updateTimerSchema,
} from './api-schemas';
import { jsonBody, type Route } from './router';
import { json, noContent, text } from './types';

/** All a webhook route needs of cascade: the receiver. */
export type WebhookContext = Pick<Cascade, 'webhooks'>;

const receiveWebhook: Route<WebhookContext>['handle'] = async (request, { name, secret }, cascade) => {
  const result = await cascade.webhooks.receive(name as string, {
    headers: request.headers,
    rawBody: request.body,
    receivedAt: request.receivedAt,
    ...(secret !== undefined && { pathSecret: secret }),
  });
  const { ping, ...answer } = result;
  return json(ping ? 200 : 202, answer);
};

/** Routes of the webhook function: providers post here. The second form carries the secret in the path. */
export const webhookRoutes: Route<WebhookContext>[] = [
  { method: 'POST', path: '/webhooks/{name}', handle: receiveWebhook },
  { method: 'POST', path: '/webhooks/{name}/{secret}', handle: receiveWebhook },
];

/** Routes of the API function: the CLI and people call these. */
export const apiRoutes: Route<Cascade>[] = [
  { method: 'GET', path: '/health', handle: async () => json(200, { status: 'ok' }) },

  { method: 'GET', path: '/api/tasks', handle: async (_r, _p, c) => json(200, { tasks: (await c.tasks.list()).map(taskView) }) },
  {
    method: 'POST',
    path: '/api/tasks',
    handle: async (r, _p, c) => json(201, taskView(await c.tasks.create(parseInput(createTaskSchema, jsonBody(r))))),
  },
  {
    method: 'GET',
    path: '/api/tasks/{name}',
    handle: async (_r, p, c) => {
      const details = await c.tasks.show(p.name as string);
      const lastRuns = await c.explain.lastRunsByBase(details.task.name);
      const dependencies = details.dependencies.map((d) => {
        const lastRun = lastRuns[`${d.registry}/${d.repository}:${d.tag}`];
        return lastRun ? { ...d, lastRun } : d;
      });
      return json(200, { ...details, dependencies, task: taskView(details.task) });
    },
  },
  { method: 'GET', path: '/api/tasks/{name}/timers', handle: async (_r, p, c) => json(200, { timers: await c.timers.list(p.name as string) }) },
  {
    method: 'POST',
    path: '/api/tasks/{name}/timers',
    handle: async (r, p, c) => json(201, await c.timers.add(p.name as string, parseInput(addTimerSchema, jsonBody(r)))),
  },
  {
    method: 'PATCH',
    path: '/api/tasks/{name}/timers/{timer}',
    handle: async (r, p, c) => json(200, await c.timers.update(p.name as string, p.timer as string, parseInput(updateTimerSchema, jsonBody(r)))),
  },
  {
    method: 'DELETE',
    path: '/api/tasks/{name}/timers/{timer}',
    handle: async (_r, p, c) => {
      await c.timers.remove(p.name as string, p.timer as string);
      return noContent();
    },
  },
  { method: 'GET', path: '/api/graph', handle: async (r, _p, c) => json(200, await c.explain.graph(parseInput(graphQuerySchema, r.query))) },
  {
    method: 'GET',
    path: '/api/explain',
    handle: async (r, _p, c) => {
      const query = parseInput(explainQuerySchema, r.query);
      return json(200, await c.explain.explainImage(query.image, query.digest));
    },
  },
  {
    method: 'PATCH',
    path: '/api/tasks/{name}',
    handle: async (r, p, c) => json(200, taskView(await c.tasks.update(p.name as string, parseInput(updateTaskSchema, jsonBody(r))))),
  },
  {
    method: 'DELETE',
    path: '/api/tasks/{name}',
    handle: async (_r, p, c) => {
      await c.tasks.delete(p.name as string);
      return noContent();
    },
  },
  {
    method: 'POST',
    path: '/api/tasks/{name}/credentials',
    handle: async (r, p, c) => json(200, taskView(await c.tasks.addCredential(p.name as string, parseInput(addCredentialSchema, jsonBody(r))))),
  },
  {
    method: 'DELETE',
    path: '/api/tasks/{name}/credentials/{loginServer}',
    handle: async (_r, p, c) => json(200, taskView(await c.tasks.removeCredential(p.name as string, p.loginServer as string))),
  },
  {
    method: 'POST',
    path: '/api/tasks/{name}/runs',
    handle: async (r, p, c) => {
      parseInput(runTaskSchema, jsonBody(r));
      const run = await c.runs.runTaskByName(p.name as string, { trigger: 'Manual', cause: { kind: 'manual' } });
      return json(202, runView(run));
    },
  },

  {
    method: 'GET',
    path: '/api/runs',
    handle: async (r, _p, c) => {
      const query = parseInput(listRunsQuerySchema, r.query);
      const runs = await c.runs.list({ top: query.top, taskName: query.task, status: query.status as Run['status'] | undefined });
      return json(200, { runs: runs.map(runView) });
    },
  },
  { method: 'GET', path: '/api/runs/{id}', handle: async (_r, p, c) => json(200, runView(await c.runs.get(p.id as string))) },
  { method: 'GET', path: '/api/runs/{id}/why', handle: async (_r, p, c) => json(200, await c.explain.why(p.id as string)) },
  {
    method: 'GET',
    path: '/api/runs/{id}/log',
    handle: async (r, p, c) => {
      const offset = r.query.offset === undefined ? 0 : Number(r.query.offset);
      if (!Number.isInteger(offset) || offset < 0) throw new ValidationError('offset must be a whole number of bytes', 'offset');
      return text(200, await c.runs.log(p.id as string, offset));
    },
  },
  { method: 'POST', path: '/api/runs/{id}/cancel', handle: async (_r, p, c) => json(200, runView(await c.runs.cancel(p.id as string))) },

  {
    method: 'POST',
    path: '/api/builds',
    handle: async (r, _p, c) => json(202, runView(await c.runs.quickBuild(parseInput(quickBuildSchema, jsonBody(r))))),
  },
  {
    method: 'PUT',
    path: '/api/registries/{host}/login',
    handle: async (r, p, c) => {
      const host = parseInput(hostSchema, p.host);
      await c.registryLogins.login(host, parseInput(registryLoginSchema, jsonBody(r)));
      return noContent();
    },
  },

  { method: 'GET', path: '/api/webhooks', handle: async (_r, _p, c) => json(200, { webhooks: await c.webhooks.list() }) },
  {
    method: 'POST',
    path: '/api/webhooks',
    handle: async (r, _p, c) => json(201, await c.webhooks.create(parseInput(createWebhookSchema, jsonBody(r)))),
  },
  {
    method: 'POST',
    path: '/api/webhooks/{name}/rotate-secret',
    handle: async (_r, p, c) => json(200, await c.webhooks.rotateSecret(p.name as string)),
  },
  {
    method: 'POST',
    path: '/api/webhooks/{name}/complete-rotation',
    handle: async (_r, p, c) => json(200, await c.webhooks.completeRotation(p.name as string)),
  },
  { method: 'GET', path: '/api/webhooks/{name}', handle: async (_r, p, c) => json(200, await c.webhooks.get(p.name as string)) },
  {
    method: 'GET',
    path: '/api/webhooks/{name}/deliveries',
    handle: async (r, p, c) => json(200, { deliveries: await c.webhooks.deliveries(p.name as string, parseInput(listDeliveriesQuerySchema, r.query).top) }),
  },
  {
    method: 'DELETE',
    path: '/api/webhooks/{name}',
    handle: async (_r, p, c) => {
      await c.webhooks.delete(p.name as string);
      return noContent();
    },
  },

  { method: 'GET', path: '/api/notifications', handle: async (_r, _p, c) => json(200, { notifications: await c.notifications.list() }) },
  {
    method: 'POST',
    path: '/api/notifications',
    handle: async (r, _p, c) => json(201, await c.notifications.add(parseInput(addNotificationSchema, jsonBody(r)))),
  },
  {
    method: 'DELETE',
    path: '/api/notifications/{name}',
    handle: async (_r, p, c) => {
      await c.notifications.remove(p.name as string);
      return noContent();
    },
  },
  // The test delivery's outcome is the answer: a receiver that refused it is a 200 with status "failed".
  { method: 'POST', path: '/api/notifications/{name}/test', handle: async (_r, p, c) => json(200, await c.notifications.test(p.name as string)) },
  {
    method: 'GET',
    path: '/api/notifications/{name}/deliveries',
    handle: async (r, p, c) => json(200, { deliveries: await c.notifications.deliveries(p.name as string, parseInput(listDeliveriesQuerySchema, r.query).top) }),
  },
];

/** Tasks as the API shows them: credential references stay inside. */
function taskView(task: Task): Task {
  return {
    ...task,
    credentials: task.credentials.map((c) => (c.kind === 'basic' ? { ...c, secretRef: '(stored)' } : c)),
  };
}

function runView(run: Run): Run {
  return { ...run, spec: { ...run.spec, credentials: run.spec.credentials.map((c) => (c.kind === 'basic' ? { ...c, secretRef: '(stored)' } : c)) } };
}
