// Composition of the domain services from their ports. AWS and the local stack build the ports
// differently and call this with them; nothing else differs.
import { Coordinator } from './coordination/coordinator';
import { DependencyCapture } from './dependency-capture';
import { Dispatcher, type DispatchReport } from './dispatcher';
import { DELIVERY_TTL_SECONDS, EventIntake } from './event-intake';
import { ExplainService } from './explain';
import { DEFAULT_POLL_INTERVAL_MS, Poller, type PollerOptions } from './poller';
import { TimerService } from './timer-service';
import { NotificationService } from './notifications/notification-service';
import type { RetrySchedule } from './notifications/retry';
import type {
  Builder,
  BuildSlotStore,
  Clock,
  GateStore,
  RunOpenings,
  DeliveryStore,
  DependencyStore,
  DigestResolver,
  ImageStateStore,
  LogStore,
  NotificationSender,
  NotificationStore,
  PollStateStore,
  Queue,
  QueueMessage,
  RunStore,
  SecretStore,
  SourceReader,
  TaskStore,
  TimerScheduler,
  TimerStateStore,
  WebhookStore,
} from './ports';
import { RegistryLogins } from './registry-logins';
import { Recovery } from './recovery';
import { RunService } from './run-service';
import { TaskService } from './task-service';
import { WebhookService } from './webhook-service';
import type { WebhookProviders } from './webhook-provider';
import type { WebhookDeliveryLog } from './webhook-delivery-log';

export interface CascadePorts {
  tasks: TaskStore;
  runs: RunStore;
  dependencies: DependencyStore;
  imageState: ImageStateStore;
  webhooks: WebhookStore;
  deliveries: DeliveryStore;
  slots: BuildSlotStore;
  openings: RunOpenings;
  gates: GateStore;
  timerStates: TimerStateStore;
  pollStates: PollStateStore;
  /** On AWS: EventBridge Scheduler. Locally absent: the stack ticks the timers itself. */
  scheduler?: TimerScheduler;
  secrets: SecretStore;
  logs: LogStore;
  queue: Queue;
  builder: Builder;
  digests: DigestResolver;
  clock: Clock;
  sources?: SourceReader;
  publicUrl: string;
  log?: (entry: DispatchReport) => void;
  /** The webhook sources, by provider name (lib/events). */
  webhookProviders: WebhookProviders;
  /** Is this webhook provider a registry (its webhooks' hosts need no polling)? */
  isRegistryProvider?: (provider: string) => boolean;
  poller?: PollerOptions;
  /** Notifications and their deliveries. */
  notifications: NotificationStore;
  /** POSTs deliveries to their receivers. */
  notificationSender: NotificationSender;
  /** Where notification work is queued; `queue` when absent (the local stack keeps it apart from the builds'). */
  notificationQueue?: Queue;
  /** When an undelivered notification is tried again; DEFAULT_RETRY when absent. */
  notificationRetry?: RetrySchedule;
  /** Told of what goes wrong where nothing may be thrown (a notification not queued, a delivery given up). */
  warn?: (message: string) => void;
  /** Each webhook's recent deliveries and what became of them (the console's webhooks view). */
  webhookDeliveries?: WebhookDeliveryLog;
}


export interface Cascade {
  tasks: TaskService;
  runs: RunService;
  /** Runs that lost their way: after a restart, and (on AWS) the reconciler's pass. */
  recovery: Recovery;
  dispatcher: Dispatcher;
  webhooks: WebhookService;
  /** Queues normalized events that arrive without a webhook (EventBridge), deduplicated. */
  intake: EventIntake;
  registryLogins: RegistryLogins;
  timers: TimerService;
  poller: Poller;
  explain: ExplainService;
  notifications: NotificationService;
  /** Handles one queue message; throws to have it retried. */
  process(message: QueueMessage): Promise<void>;
}

export function createCascade(ports: CascadePorts): Cascade {
  const coordination = new Coordinator(ports);
  const capture = new DependencyCapture(ports);
  const notifications = new NotificationService({
    ...ports,
    sender: ports.notificationSender,
    queue: ports.notificationQueue ?? ports.queue,
    ...(ports.notificationRetry && { retry: ports.notificationRetry }),
  });
  const runs = new RunService({ ...ports, coordination, capture, notify: notifications });
  const recovery = new Recovery({ ...ports, lifecycle: runs, coordination });
  const timers = new TimerService({ ...ports, runs });
  const tasks = new TaskService({ ...ports, onDelete: (task) => timers.removeAll(task) });
  const dispatcher = new Dispatcher({ ...ports, runs, coordination, notify: notifications });
  const webhooks = new WebhookService(ports);
  const registryLogins = new RegistryLogins(ports.secrets);
  const intake = new EventIntake(ports);
  const poller = new Poller(
    { ...ports, intake, isRegistryProvider: ports.isRegistryProvider ?? (() => false) },
    ports.poller ?? { intervalMs: DEFAULT_POLL_INTERVAL_MS },
  );
  return {
    tasks,
    runs,
    recovery,
    dispatcher,
    webhooks,
    intake,
    registryLogins,
    timers,
    poller,
    explain: new ExplainService(ports),
    notifications,
    async process(message) {
      switch (message.type) {
        case 'event': {
          const report = await dispatcher.dispatch(message.event, message.forTask);
          // Only once dispatched: a failed dispatch is retried, and its outcome is the retry's.
          if (message.via && ports.webhookDeliveries) {
            const outcome = { at: ports.clock.now().toISOString(), started: report.started, skipped: report.skipped };
            await ports.webhookDeliveries
              .recordOutcome(message.via, message.event.deliveryId, outcome, DELIVERY_TTL_SECONDS)
              .catch((error: unknown) => ports.warn?.(`what became of delivery ${message.event.deliveryId} was not recorded: ${error instanceof Error ? error.message : String(error)}`));
          }
          return;
        }
        case 'start-run':
          // Queued after a start whose outcome was unknown (or refused for now): not a first start.
          await runs.start(message.runId, { retry: true });
          return;
        case 'build-result':
          await runs.recordResult(message.result);
          return;
        case 'notify':
          await notifications.fanOut(message.subject);
          return;
        case 'notify-attempt':
          await notifications.attempt(message.notification, message.deliveryId, message.attempt);
          return;
      }
    },
  };
}
