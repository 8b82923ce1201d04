// The console's client of cascade's JSON API: the same routes and answers as the CLI's
// (lib/cli/api-client.ts), called on the console's own origin (the local stack, or `cascade
// console`, which signs and forwards them).
import type { DependencyGraph } from '../../domain/graph';
import type { WhyAnswer } from '../../domain/explain';
import type { TimerView } from '../../domain/timer-service';
import type { Run, RunStatus, Task } from '../../domain/types';
import type { TaskDetail, WebhookView } from '../../cli/format';
import type { WebhookDeliveryView } from '../../domain/webhook-delivery-log';
import { currentApiToken, markApiTokenNeeded } from './api-token';

/** An answer other than 2xx, with the server's own message when it sent one. */
export class ConsoleApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConsoleApiError';
  }
}

export interface RunFilter {
  task?: string;
  status?: RunStatus;
  top?: number;
}

const segment = encodeURIComponent;

function query(params: Record<string, string | number | undefined>): string {
  const pairs = Object.entries(params).filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '');
  return pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&')}`;
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = currentApiToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ConsoleApiError(0, 'unreachable', 'cascade did not answer: check that it is still running');
  }
  if (response.ok) return response;
  if (response.status === 401) markApiTokenNeeded();
  throw await errorOf(response);
}

async function errorOf(response: Response): Promise<ConsoleApiError> {
  const text = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string }; message?: string };
    if (parsed.error?.message) return new ConsoleApiError(response.status, parsed.error.code ?? 'error', parsed.error.message);
    if (typeof parsed.message === 'string') return new ConsoleApiError(response.status, 'gateway', parsed.message.split('\n')[0] ?? parsed.message);
  } catch {
    // not JSON: the status line says it
  }
  return new ConsoleApiError(response.status, 'http_error', `cascade answered HTTP ${response.status}`);
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(method, path, body);
  return (await response.json()) as T;
}

export const consoleApi = {
  async listRuns(filter: RunFilter): Promise<Run[]> {
    return (await json<{ runs: Run[] }>('GET', `/api/runs${query({ task: filter.task, status: filter.status, top: filter.top })}`)).runs;
  },
  getRun: (id: string) => json<Run>('GET', `/api/runs/${segment(id)}`),
  why: (id: string) => json<WhyAnswer>('GET', `/api/runs/${segment(id)}/why`),
  cancelRun: (id: string) => json<Run>('POST', `/api/runs/${segment(id)}/cancel`, {}),
  /** The log's bytes from `offset` on. */
  async getLog(id: string, offset: number): Promise<Uint8Array> {
    const response = await send('GET', `/api/runs/${segment(id)}/log${query({ offset })}`);
    return new Uint8Array(await response.arrayBuffer());
  },
  async listTasks(): Promise<Task[]> {
    return (await json<{ tasks: Task[] }>('GET', '/api/tasks')).tasks;
  },
  getTask: (name: string) => json<TaskDetail>('GET', `/api/tasks/${segment(name)}`),
  async listTimers(name: string): Promise<TimerView[]> {
    return (await json<{ timers: TimerView[] }>('GET', `/api/tasks/${segment(name)}/timers`)).timers;
  },
  runTask: (name: string) => json<Run>('POST', `/api/tasks/${segment(name)}/runs`, {}),
  setTaskStatus: (name: string, status: Task['status']) => json<Task>('PATCH', `/api/tasks/${segment(name)}`, { status }),
  graph: (image?: string) => json<DependencyGraph>('GET', `/api/graph${query({ image })}`),
  async listWebhooks(): Promise<WebhookView[]> {
    return (await json<{ webhooks: WebhookView[] }>('GET', '/api/webhooks')).webhooks;
  },
  async webhookDeliveries(name: string, top: number): Promise<WebhookDeliveryView[]> {
    return (await json<{ deliveries: WebhookDeliveryView[] }>('GET', `/api/webhooks/${segment(name)}/deliveries${query({ top })}`)).deliveries;
  },
};
