// HTTP client of the cascade API. One method per endpoint; answers are the server's JSON, typed.
import type { AddCredentialInput, CreateTaskInput, QuickBuildInput, UpdateTaskInput } from '../domain/inputs';
import type { Run, RunStatus, Task, TaskTimer } from '../domain/types';
import type { DependencyGraph } from '../domain/graph';
import type { ExplainAnswer, WhyAnswer } from '../domain/explain';
import type { TimerView } from '../domain/timer-service';
import type { AddedNotificationView, AddNotificationInput, DeliveryView, NotificationView } from '../domain/notifications/notification';
import type { TaskDetail, WebhookView } from './format';
import type { ApiTokenView } from '../local/api-tokens';
import { ApiError, IamAuthorizationError, UnreachableError } from './errors';

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

/** One request as it will be sent; `body` holds the exact bytes. */
export interface OutgoingRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Uint8Array;
}

/** Adds authentication to a request (AWS Signature Version 4 for a deployed API). */
export interface RequestSigner {
  /** The headers to send instead of `request.headers`. */
  sign(request: OutgoingRequest): Promise<Record<string, string>>;
}

export interface ApiClientOptions {
  timeoutMs?: number;
  /** Requests go unsigned when absent, as the local stack expects. */
  signer?: RequestSigner;
  /** The local stack's API token to send as `Authorization: Bearer`, if there is one. */
  token?: () => Promise<string | undefined>;
  fetch?: typeof fetch;
}

const segment = encodeURIComponent;

/** `?k=v&…` for the defined values, every name and value percent-encoded (never `+` for a space). */
function queryString(params: Record<string, string | number | undefined>): string {
  const pairs = Object.entries(params)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  return pairs.length > 0 ? `?${pairs.join('&')}` : '';
}

/**
 * API Gateway's own refusals are `{"message": "..."}`; cascade's errors are `{"error": {...}}`.
 * Only the first line is kept: a signature mismatch goes on with the canonical request, which
 * holds the session token.
 */
function gatewayMessage(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
    if (parsed.error !== undefined || typeof parsed.message !== 'string') return undefined;
    return (parsed.message.split('\n')[0] ?? '').trim().slice(0, 200);
  } catch {
    return undefined;
  }
}

export class CascadeApiClient {
  /** Without a trailing slash; may carry a path (an API Gateway stage such as `/dev`). */
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly signer?: RequestSigner;
  private readonly token?: () => Promise<string | undefined>;
  private readonly fetch: typeof fetch;

  constructor(baseUrl: string, options: ApiClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.signer = options.signer;
    this.token = options.token;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
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

  async listTimers(task: string): Promise<TimerView[]> {
    return (await this.json<{ timers: TimerView[] }>('GET', `/api/tasks/${segment(task)}/timers`)).timers;
  }

  addTimer(task: string, input: { name: string; schedule: string; enabled?: boolean }): Promise<TaskTimer> {
    return this.json('POST', `/api/tasks/${segment(task)}/timers`, input);
  }

  updateTimer(task: string, timer: string, input: { schedule?: string; enabled?: boolean }): Promise<TaskTimer> {
    return this.json('PATCH', `/api/tasks/${segment(task)}/timers/${segment(timer)}`, input);
  }

  async removeTimer(task: string, timer: string): Promise<void> {
    await this.send('DELETE', `/api/tasks/${segment(task)}/timers/${segment(timer)}`);
  }

  graph(focus: { image?: string; task?: string }): Promise<DependencyGraph> {
    return this.json('GET', `/api/graph${queryString({ image: focus.image, task: focus.task })}`);
  }

  why(runId: string): Promise<WhyAnswer> {
    return this.json('GET', `/api/runs/${segment(runId)}/why`);
  }

  explain(image: string, digest: string): Promise<ExplainAnswer> {
    return this.json('GET', `/api/explain${queryString({ image, digest })}`);
  }

  runTask(name: string): Promise<Run> {
    return this.json('POST', `/api/tasks/${segment(name)}/runs`, {});
  }

  async listRuns(query: ListRunsQuery): Promise<Run[]> {
    const search = queryString({ task: query.task, status: query.status, top: query.top });
    return (await this.json<{ runs: Run[] }>('GET', `/api/runs${search}`)).runs;
  }

  getRun(id: string): Promise<Run> {
    return this.json('GET', `/api/runs/${segment(id)}`);
  }

  /** The log's bytes from `offset` on; the caller adds their length to the offset for the next call. */
  async getLog(id: string, offset: number): Promise<Buffer> {
    const response = await this.send('GET', `/api/runs/${segment(id)}/log${queryString({ offset })}`);
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

  async listNotifications(): Promise<NotificationView[]> {
    return (await this.json<{ notifications: NotificationView[] }>('GET', '/api/notifications')).notifications;
  }

  addNotification(input: AddNotificationInput): Promise<AddedNotificationView> {
    return this.json('POST', '/api/notifications', input);
  }

  async removeNotification(name: string): Promise<void> {
    await this.send('DELETE', `/api/notifications/${segment(name)}`);
  }

  testNotification(name: string): Promise<DeliveryView> {
    return this.json('POST', `/api/notifications/${segment(name)}/test`);
  }

  async listNotificationDeliveries(name: string, top?: number): Promise<DeliveryView[]> {
    return (await this.json<{ deliveries: DeliveryView[] }>('GET', `/api/notifications/${segment(name)}/deliveries${queryString({ top })}`)).deliveries;
  }

  async listTokens(): Promise<ApiTokenView[]> {
    return (await this.json<{ tokens: ApiTokenView[] }>('GET', '/api/tokens')).tokens;
  }

  createToken(name: string): Promise<ApiTokenView & { token: string }> {
    return this.json('POST', '/api/tokens', { name });
  }

  async revokeToken(name: string): Promise<void> {
    await this.send('DELETE', `/api/tokens/${segment(name)}`);
  }

  /**
   * Sends the bytes of a request made elsewhere (`cascade console` forwards its browser's API
   * calls), signed or with the token as every call is, and answers the response whatever its
   * status. `authorization` (the browser's) is sent only when this client has no credentials of
   * its own to send.
   */
  async forward(method: string, pathAndQuery: string, request: { body?: Uint8Array; contentType?: string; authorization?: string } = {}): Promise<Response> {
    const url = new URL(`${this.baseUrl}${pathAndQuery}`);
    const body = request.body !== undefined && request.body.length > 0 ? Buffer.from(request.body) : undefined;
    const plain: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) plain['content-type'] = request.contentType ?? 'application/json';
    const token = this.signer ? undefined : await this.token?.();
    if (token !== undefined) plain.authorization = `Bearer ${token}`;
    else if (!this.signer && request.authorization !== undefined) plain.authorization = request.authorization;
    const headers = this.signer ? await this.signer.sign({ method, url, headers: plain, body }) : plain;
    try {
      return await this.fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw this.unreachable(err);
    }
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
    const url = new URL(`${this.baseUrl}${path}`);
    // Encoded once, so the bytes a signature covers are the bytes sent.
    const bytes = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const plain: Record<string, string> = bytes === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' };
    const token = await this.token?.();
    if (token !== undefined) plain.authorization = `Bearer ${token}`;
    // Outside the try below: no credentials is the user's to fix, not an unreachable server.
    const headers = this.signer ? await this.signer.sign({ method, url, headers: plain, body: bytes }) : plain;
    let response: Response;
    try {
      response = await this.fetch(url, { method, headers, body: bytes, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw this.unreachable(err);
    }
    if (response.ok) return response;
    throw await this.apiError(response);
  }

  private unreachable(err: unknown): UnreachableError {
    // A deployed API is not started by hand: then the advice is to check the URL.
    const local = this.signer === undefined;
    if (err instanceof Error && err.name === 'TimeoutError') {
      const advice = local ? 'check that it is running ("cascade up") or set CASCADE_API' : 'check the URL in CASCADE_API and your network';
      return new UnreachableError(`cascade at ${this.baseUrl} did not answer within ${Math.round(this.timeoutMs / 1000)}s: ${advice}`, { cause: err });
    }
    const advice = local ? 'start it with "cascade up" or set CASCADE_API' : 'check the URL in CASCADE_API and your network';
    return new UnreachableError(`cannot reach cascade at ${this.baseUrl}: ${advice}`, { cause: err });
  }

  private iamRefusal(reason: string): IamAuthorizationError {
    const answered = `the cascade API at ${this.baseUrl} refused the request under IAM authorization ("${reason}")`;
    if (!this.signer) {
      return new IamAuthorizationError(`${answered}: cascade did not sign it; set CASCADE_API_AUTH=aws-iam (and AWS_REGION for a custom domain) so it does`);
    }
    // A mismatch, an expired signature or a wrong region, as opposed to an identity refused.
    if (/signature|scoped/i.test(reason)) {
      return new IamAuthorizationError(`${answered}: check this machine's clock and, for a custom domain, that AWS_REGION is the API's region`);
    }
    return new IamAuthorizationError(
      `${answered}: check that your AWS credentials (AWS_PROFILE) are current and allowed execute-api:Invoke on this API`,
    );
  }

  private async apiError(response: Response): Promise<ApiError> {
    let text = '';
    try {
      text = await response.text();
    } catch {
      // The status alone still says what went wrong.
    }
    const refusal = response.status === 403 ? gatewayMessage(text) : undefined;
    if (refusal !== undefined) return this.iamRefusal(refusal);
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
