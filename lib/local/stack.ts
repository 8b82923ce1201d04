// The whole of cascade on one machine: DynamoDB Local persisting under the data folder, the
// HTTP server with the deployment's routes, an in-process queue, and builds on buildah.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BuildahBuilder } from '../adapters/buildah-builder';
import { createDynamoDbStores } from '../adapters/dynamodb-stores';
import { DynamoDbWebhookDeliveryLog } from '../adapters/dynamodb-webhook-delivery-log';
import { FileLogStore } from '../adapters/file-log-store';
import { FileSecretStore } from '../adapters/file-secret-store';
import { GitSourceReader } from '../adapters/git-source-reader';
import { HttpNotificationSender } from '../adapters/http-notification-sender';
import type { RetrySchedule } from '../domain/notifications/retry';
import { RegistryDigestResolver } from '../adapters/registry-digest-resolver';
import { createCascade, type Cascade } from '../domain/cascade';
import type { DispatchReport } from '../domain/dispatcher';
import { RegistryLogins } from '../domain/registry-logins';
import type { Builder, Clock, QueueMessage, SourceReader } from '../domain/ports';
import { systemClock } from '../domain/ports';
import { DEFAULT_POLL_INTERVAL_MS, type PollReport } from '../domain/poller';
import type { FireOutcome } from '../domain/timer-service';
import { getProvider } from '../events';
import { isRegistryProvider } from '../events/provider-names';
import { every } from './every';
import { apiRoutes, webhookRoutes } from '../http/api-routes';
import { createRouter } from '../http/router';
import { createLocalDocumentClient, createTableIfMissing, startDynamoDbLocal } from './dynamodb-local';
import { startHttpServer } from './http-server';
import { InProcessQueue } from './in-process-queue';
import { redactPath, worthLogging } from './request-log';
import { checkExposure, createAccessGuard, isLoopbackOnly, parsePublicUrl } from './access';
import { ApiTokens } from './api-tokens';
import { tokenRoutes } from './token-routes';
import { isConsolePath, serveConsole } from '../console/console-routes';

export interface LocalStackOptions {
  port: number;
  dataDir: string;
  /** The address to listen on; 127.0.0.1 when absent. Beyond loopback, API tokens are required. */
  host?: string;
  /** The address registries and git hosts use (a reverse proxy, a tunnel); webhook URLs name it. */
  publicUrl?: string;
  /** PEM certificate and key: the stack speaks HTTPS. */
  tls?: { certFile: string; keyFile: string };
  /** No API token is asked for, even beyond loopback. */
  insecureNoAuth?: boolean;
  log?: (line: string) => void;
  /** Plain-HTTP registries beyond loopback ones, which are always spoken to over HTTP. */
  insecureRegistries?: string[];
  tableName?: string;
  /** Replaces buildah, for tests that only need to see which builds start. */
  builder?: (onResult: BuildahBuilderResultSink) => Builder;
  /** Keep DynamoDB in memory instead of under the data folder. */
  inMemory?: boolean;
  /** How Dockerfiles are read before a task is saved; `null` skips the check (tests without git). */
  sources?: SourceReader | null;
  /** Seconds between polls of base images whose registry sends no events; 0 turns the poller off. Default 300. */
  pollIntervalSeconds?: number;
  /** How often timers are looked at, in ms; 0 leaves it to `tickTimers` (tests with a fake clock). Default 15 s. */
  timerTickMs?: number;
  /** The stack's time: timers and history follow it (a fake clock in tests). */
  clock?: Clock;
  /** When an undelivered notification is tried again (lib/domain/notifications/retry.ts); short in tests. */
  notificationRetry?: RetrySchedule;
}

/** Timers are looked at this often: well inside their one-minute resolution. */
const TIMER_TICK_MS = 15_000;
/** Finished runs past their retention are swept this often (DynamoDB Local has no TTL). */
const SWEEP_MS = 60 * 60 * 1000;

type BuildahBuilderResultSink = ConstructorParameters<typeof BuildahBuilder>[0]['onResult'];

export interface LocalStack {
  /** Where this machine reaches the stack. */
  url: string;
  /** Where registries and git hosts reach it: --public-url, or `url`. */
  publicUrl: string;
  tokens: ApiTokens;
  port: number;
  cascade: Cascade;
  queue: InProcessQueue;
  /** Notification deliveries: a queue of their own, so that a slow receiver never holds a build's message up. */
  notificationQueue: InProcessQueue;
  /** The records' table, for tools that seed or watch it (the benchmark). */
  dynamo: { client: DynamoDBDocumentClient; tableName: string; endpoint: string };
  /** Resolves when no message is queued and no local build is running. */
  idle(): Promise<void>;
  /** Fires the timers that are due now (the stack also does it on its own every 15 s). */
  tickTimers(): Promise<FireOutcome[]>;
  /** Polls the watched base images now. */
  pollNow(): Promise<PollReport>;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const host = options.host ?? '127.0.0.1';
  const tokens = new ApiTokens({ dataDir });
  const access = { host, tokens, insecureNoAuth: options.insecureNoAuth, ...(options.publicUrl !== undefined && { publicUrl: parsePublicUrl(options.publicUrl) }) };
  // Before anything starts: a stack anyone on the network could drive does not start at all.
  await checkExposure(access, dataDir);
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => log(`cascade: while stopping: ${String(error)}`));
  };

  try {
    const dynamo = await startDynamoDbLocal(options.inMemory ? {} : { dataDir: join(dataDir, 'dynamodb') });
    stops.push(() => dynamo.stop());
    const client = createLocalDocumentClient(dynamo.endpoint);
    const tableName = options.tableName ?? 'cascade';
    await createTableIfMissing(client, tableName);
    // Said so that the Lambda functions can be invoked by hand against the same records.
    log(`cascade: DynamoDB Local at ${dynamo.endpoint}, table ${tableName}`);
    const clock = options.clock ?? systemClock;
    const stores = createDynamoDbStores({ client, tableName, clock });
    const secrets = new FileSecretStore({ dataDir });
    const logs = new FileLogStore({ dataDir });
    const registryLogins = new RegistryLogins(secrets);

    // The queue's handler is the cascade built below with that queue: bound through this holder.
    const holder: { cascade?: Cascade } = {};
    const queue = new InProcessQueue({
      handler: (message) => (holder.cascade as Cascade).process(message),
      onError: (message, error, receives) =>
        log(`cascade: ${describe(message)} failed (receive ${receives}): ${error instanceof Error ? error.message : String(error)}`),
    });
    stops.push(() => queue.stop());
    const notificationQueue = new InProcessQueue({
      handler: (message) => (holder.cascade as Cascade).process(message),
      onError: (message, error, receives) =>
        log(`cascade: ${describe(message)} failed (receive ${receives}): ${error instanceof Error ? error.message : String(error)}`),
      concurrency: 8,
    });
    stops.push(() => notificationQueue.stop());

    const onResult: BuildahBuilderResultSink = (result) => queue.send({ type: 'build-result', result });
    let buildah: BuildahBuilder | undefined;
    const builder =
      options.builder?.(onResult) ??
      (buildah = new BuildahBuilder({
        workDir: join(dataDir, 'builds'),
        storageRoot: join(dataDir, 'containers'),
        secrets,
        logs,
        onResult,
        insecureRegistries: options.insecureRegistries,
        pushCredentials: (host) => registryLogins.get(host),
      }));
    if (buildah) {
      const running = buildah;
      stops.push(() => running.stop());
    }

    // The server's URL is only known once it listens; providers are told it through publicUrl.
    let publicUrl = '';
    const pollIntervalMs = options.pollIntervalSeconds !== undefined ? options.pollIntervalSeconds * 1000 : DEFAULT_POLL_INTERVAL_MS;
    const cascade = createCascade({
      ...stores,
      imageState: stores.imageStates,
      secrets,
      logs,
      queue,
      notificationQueue,
      notificationSender: new HttpNotificationSender(),
      webhookDeliveries: new DynamoDbWebhookDeliveryLog({ client, tableName, clock }),
      ...(options.notificationRetry && { notificationRetry: options.notificationRetry }),
      warn: (message) => log(`cascade: ${message}`),
      builder,
      digests: new RegistryDigestResolver({ secrets, logins: registryLogins, insecureHosts: options.insecureRegistries }),
      clock,
      webhookProviders: getProvider,
      isRegistryProvider,
      // Off (0), a pass asked for by hand still backs failures off in the usual steps.
      poller: { intervalMs: pollIntervalMs || DEFAULT_POLL_INTERVAL_MS },
      ...(options.sources !== null && { sources: options.sources ?? new GitSourceReader() }),
      get publicUrl() {
        return publicUrl;
      },
      log: (report) => log(describeReport(report)),
    });
    holder.cascade = cascade;
    const routes = createRouter([...apiRoutes, ...webhookRoutes], cascade);
    const localRoutes = createRouter(tokenRoutes, tokens);
    const guard = createAccessGuard(access);
    const server = await startHttpServer(
      async (request) => {
        // The web console: its page and files (behind the Host check, with no token), on the same API.
        const response = isConsolePath(request.path) ? await serveConsole(request) : await (request.path.startsWith('/api/tokens') ? localRoutes : routes)(request);
        if (worthLogging(request.method, request.path, response.status)) log(`${request.method} ${redactPath(request.path)} ${response.status}`);
        return response;
      },
      {
        port: options.port,
        host,
        tls: options.tls,
        screen: async (head) => {
          const refusal = await guard(head);
          if (refusal) log(`${head.method} ${redactPath(head.path)} ${refusal.status} (refused before reading)`);
          return refusal;
        },
      },
    );
    stops.push(() => server.close());
    publicUrl = options.publicUrl?.replace(/\/+$/, '') ?? server.url;
    if (isLoopbackOnly(host) && !options.insecureNoAuth && !(await tokens.any())) {
      log(`cascade: the API asks for no token: anyone on this machine may use it. To require one, run "cascade token create --name NAME --data-dir ${dataDir}" (it applies at once)`);
    } else if (options.insecureNoAuth) {
      log(`cascade: --insecure-no-auth: anyone who can reach ${host}:${server.port} may use the API`);
    }

    const recovered = await cascade.recovery.recoverAfterRestart();
    if (recovered.restarted.length + recovered.failed.length > 0) {
      log(`cascade: after restart, started again ${recovered.restarted.join(', ') || 'none'}; marked interrupted ${recovered.failed.join(', ') || 'none'}`);
    }
    // The in-process queue kept no notification attempt across the restart.
    const resumed = await cascade.notifications.resumePending();
    if (resumed > 0) log(`cascade: after restart, ${resumed} notification delivery(ies) tried again`);

    const warn = (what: string) => (error: unknown) => log(`cascade: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    const timerTickMs = options.timerTickMs ?? TIMER_TICK_MS;
    const timerOutcomes: FireOutcome[] = [];
    const tick = async () => {
      for (const outcome of await cascade.timers.tick()) {
        timerOutcomes.push(outcome);
        log(outcome.fired ? `cascade: timer ${outcome.task}/${outcome.timer} fired for ${outcome.occurrence}: ${outcome.runId}${outcome.missed ? ` (${outcome.missed} missed occurrence(s) folded in)` : ''}` : `cascade: timer ${outcome.task}/${outcome.timer} at ${outcome.occurrence}: ${outcome.reason}`);
      }
    };
    const timers = every(() => (timerTickMs > 0 ? timerTickMs : undefined), tick, warn('timers'));
    stops.push(() => timers.stop());
    let lastPoll: PollReport | undefined;
    const pollOnce = async () => {
      const report = await cascade.poller.poll();
      lastPoll = report;
      for (const change of report.changed) log(`cascade: poller: ${change.ref} (${change.platform}) is now ${change.to}${change.from ? `, was ${change.from}` : ''}`);
      for (const failure of report.failed) log(`cascade: poller: ${failure.ref}: ${failure.error}`);
    };
    // Jitter of ±10%, so that many installations (or a restart loop) do not poll in step.
    const poller = every(() => (pollIntervalMs > 0 ? pollIntervalMs * (0.9 + Math.random() * 0.2) : undefined), pollOnce, warn('poller'));
    stops.push(() => poller.stop());
    const sweep = every(() => SWEEP_MS, async () => {
      const removed = await cascade.runs.sweepExpired();
      if (removed.length > 0) log(`cascade: removed ${removed.length} run(s) past their retention: ${removed.join(', ')}`);
    }, warn('history sweep'));
    stops.push(() => sweep.stop());
    // Not awaited: start-up does not wait on a read of every run; a stop waits for it.
    void sweep.now();

    return {
      url: server.url,
      publicUrl,
      tokens,
      port: server.port,
      cascade,
      queue,
      notificationQueue,
      dynamo: { client, tableName, endpoint: dynamo.endpoint },
      async idle() {
        // A finished build posts its result to the queue, and a pushed image may notify cascade
        // again: wait until a whole pass finds both quiet.
        const builderIdle = () => (buildah ? buildah.idle() : Promise.resolve());
        for (;;) {
          await queue.idle();
          await builderIdle();
          await queue.idle();
          const quiet = await Promise.race([builderIdle().then(() => true), sleep(25).then(() => false)]);
          if (quiet && queue.isIdle()) return;
        }
      },
      async tickTimers() {
        const before = timerOutcomes.length;
        await timers.now();
        return timerOutcomes.slice(before);
      },
      async pollNow() {
        await poller.now();
        return lastPoll as PollReport;
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function describe(message: QueueMessage): string {
  switch (message.type) {
    case 'event': {
      const event = message.event;
      return event.kind === 'git'
        ? `git event ${event.repoUrl} ${event.ref}`
        : `${event.kind} event ${event.registry}/${event.repository}:${event.tag}`;
    }
    case 'start-run':
      return `start of run ${message.runId}`;
    case 'build-result':
      return `result of run ${message.result.runId}`;
    case 'notify':
      return `notifications of ${message.subject.event === 'base.deleted' ? `the deletion of ${message.subject.base.ref}` : `${message.subject.run.id} ${message.subject.run.status}`}`;
    case 'notify-attempt':
      return `attempt ${message.attempt} of delivery ${message.deliveryId} of notification ${message.notification}`;
  }
}

function describeReport(report: DispatchReport): string {
  const started = report.started.map((s) => `started ${s.runId} for ${s.task} (${s.reason})`);
  const skipped = report.skipped.map((s) => `skipped ${s.task ?? ''}${s.task ? ': ' : ''}${s.reason}`);
  return [`cascade: ${report.event}`, ...started, ...skipped].join('\n  ');
}
