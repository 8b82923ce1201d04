// Composition of the domain services from their ports. AWS and the local stack build the ports
// differently and call this with them; nothing else differs.
import { Coordinator } from './coordination/coordinator';
import { DependencyCapture } from './dependency-capture';
import { Dispatcher, type DispatchReport } from './dispatcher';
import { EventIntake } from './event-intake';
import { ExplainService } from './explain';
import { DEFAULT_POLL_INTERVAL_MS, Poller, type PollerOptions } from './poller';
import { TimerService } from './timer-service';
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
  /** Handles one queue message; throws to have it retried. */
  process(message: QueueMessage): Promise<void>;
}

export function createCascade(ports: CascadePorts): Cascade {
  const coordination = new Coordinator(ports);
  const capture = new DependencyCapture(ports);
  const runs = new RunService({ ...ports, coordination, capture });
  const recovery = new Recovery({ ...ports, lifecycle: runs, coordination });
  const timers = new TimerService({ ...ports, runs });
  const tasks = new TaskService({ ...ports, onDelete: (task) => timers.removeAll(task) });
  const dispatcher = new Dispatcher({ ...ports, runs, coordination });
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
    async process(message) {
      switch (message.type) {
        case 'event':
          await dispatcher.dispatch(message.event, message.forTask);
          return;
        case 'start-run':
          // Queued after a start whose outcome was unknown (or refused for now): not a first start.
          await runs.start(message.runId, { retry: true });
          return;
        case 'build-result':
          await runs.recordResult(message.result);
          return;
      }
    },
  };
}
