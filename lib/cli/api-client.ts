// HTTP client of the cascade API. One method per endpoint; answers are the server's JSON, typed.
import type { AddCredentialInput, CreateTaskInput, QuickBuildInput, UpdateTaskInput } from '../http/api-schemas';
import type { Run, RunStatus, Task } from '../domain/types';
import type { TaskDetail, WebhookView } from './format';
import { ApiError, UnreachableError } from './errors';

export const DEFAULT_API_URL = 'http://127.0.0.1:3000';
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface ListRunsQuery {
  task?: string;
  status?: RunStatus;
  top?: number;
}

export interface CreateWebhookInput {
  name: string;
  provider: string;
  loginServer?: string;
}

const segment = encodeURIComponent;

export class CascadeApiClient {
  /** Without a trailing slash; may carry a path (an API Gateway stage such as `/dev`). */
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  health(): Promise<{ status: string }> {
    return this.json('GET', '/health');
  }

  async listTasks(): Promise<Task[]> {
    return (await this.json<{ tasks: Task[] }>('GET', '/api/tasks')).tasks;
  }

  createTask(input: Partial<CreateTaskInput>): Promise<Task> {
    return this.json('POST', '/api/tasks', input);
  }

  getTask(name: string): Promise<TaskDetail> {
    return this.json('GET', `/api/tasks/${segment(name)}`);
  }

  updateTask(name: string, input: UpdateTaskInput): Promise<Task> {
    return this.json('PATCH', `/api/tasks/${segment(name)}`, input);
  }

  async deleteTask(name: string): Promise<void> {
    await this.send('DELETE', `/api/tasks/${segment(name)}`);
  }

  addCredential(name: string, input: AddCredentialInput): Promise<Task> {
    return this.json('POST', `/api/tasks/${segment(name)}/credentials`, input);
  }

  removeCredential(name: string, loginServer: string): Promise<Task> {
    return this.json('DELETE', `/api/tasks/${segment(name)}/credentials/${segment(loginServer)}`);
  }

  runTask(name: string): Promise<Run> {
    return this.json('POST', `/api/tasks/${segment(name)}/runs`, {});
  }

  async listRuns(query: ListRunsQuery): Promise<Run[]> {
    const params = new URLSearchParams();
    if (query.task !== undefined) params.set('task', query.task);
    if (query.status !== undefined) params.set('status', query.status);
    if (query.top !== undefined) params.set('top', String(query.top));
    const search = params.size > 0 ? `?${params.toString()}` : '';
    return (await this.json<{ runs: Run[] }>('GET', `/api/runs${search}`)).runs;
  }

  getRun(id: string): Promise<Run> {
    return this.json('GET', `/api/runs/${segment(id)}`);
  }

  /** The log's bytes from `offset` on; the caller adds their length to the offset for the next call. */
  async getLog(id: string, offset: number): Promise<Buffer> {
    const response = await this.send('GET', `/api/runs/${segment(id)}/log?offset=${offset}`);
    return Buffer.from(await response.arrayBuffer());
  }

  cancelRun(id: string): Promise<Run> {
    return this.json('POST', `/api/runs/${segment(id)}/cancel`, {});
  }

  quickBuild(input: Partial<QuickBuildInput>): Promise<Run> {
    return this.json('POST', '/api/builds', input);
  }

  async registryLogin(host: string, credentials: { username: string; password: string }): Promise<void> {
    await this.send('PUT', `/api/registries/${segment(host)}/login`, credentials);
  }

  async listWebhooks(): Promise<WebhookView[]> {
    return (await this.json<{ webhooks: WebhookView[] }>('GET', '/api/webhooks')).webhooks;
  }

  createWebhook(input: CreateWebhookInput): Promise<WebhookView> {
    return this.json('POST', '/api/webhooks', input);
  }

  getWebhook(name: string): Promise<WebhookView> {
    return this.json('GET', `/api/webhooks/${segment(name)}`);
  }

  rotateWebhookSecret(name: string): Promise<WebhookView> {
    return this.json('POST', `/api/webhooks/${segment(name)}/rotate-secret`);
  }

  completeWebhookRotation(name: string): Promise<WebhookView> {
    return this.json('POST', `/api/webhooks/${segment(name)}/complete-rotation`);
  }

  async deleteWebhook(name: string): Promise<void> {
    await this.send('DELETE', `/api/webhooks/${segment(name)}`);
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(response.status, 'invalid_response', `cascade at ${this.baseUrl} answered ${method} ${path} with something that is not JSON: check CASCADE_API points at cascade`);
    }
  }

  /** Sends one request; any non-2xx answer becomes an ApiError carrying the server's message. */
  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw this.unreachable(err);
    }
    if (response.ok) return response;
    throw await this.apiError(response);
  }

  private unreachable(err: unknown): UnreachableError {
    if (err instanceof Error && err.name === 'TimeoutError') {
      return new UnreachableError(
        `cascade at ${this.baseUrl} did not answer within ${Math.round(this.timeoutMs / 1000)}s: check that it is running ("cascade up") or set CASCADE_API`,
        { cause: err },
      );
    }
    return new UnreachableError(`cannot reach cascade at ${this.baseUrl}: start it with "cascade up" or set CASCADE_API`, { cause: err });
  }

  private async apiError(response: Response): Promise<ApiError> {
    let text = '';
    try {
      text = await response.text();
    } catch {
      // The status alone still says what went wrong.
    }
    try {
      const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; field?: unknown } };
      const error = parsed.error;
      if (error && typeof error.message === 'string') {
        return new ApiError(
          response.status,
          typeof error.code === 'string' ? error.code : 'error',
          error.message,
          typeof error.field === 'string' ? error.field : undefined,
        );
      }
    } catch {
      // Not the API's error shape (a proxy's HTML page, say): fall through to the status line.
    }
    const firstLine = text.trim().split('\n')[0]?.slice(0, 200) ?? '';
    return new ApiError(
      response.status,
      'http_error',
      `cascade at ${this.baseUrl} answered HTTP ${response.status}${firstLine ? `: ${firstLine}` : ''}`,
    );
  }
}
