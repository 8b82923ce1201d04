// Composition of the domain services from their ports. AWS and the local stack build the ports
// differently and call this with them; nothing else differs.
import { Dispatcher, type DispatchReport } from './dispatcher';
import { EventIntake } from './event-intake';
import type {
  Builder,
  BuildSlotStore,
  Clock,
  DeferralStore,
  DeliveryStore,
  DependencyStore,
  DigestResolver,
  ImageStateStore,
  LogStore,
  Queue,
  QueueMessage,
  RunStore,
  SecretStore,
  SourceReader,
  TaskStore,
  WebhookStore,
} from './ports';
import { RegistryLogins } from './registry-logins';
import { RunService } from './run-service';
import { TaskService } from './task-service';
import { WebhookService } from './webhook-service';

export interface CascadePorts {
  tasks: TaskStore;
  runs: RunStore;
  dependencies: DependencyStore;
  imageState: ImageStateStore;
  webhooks: WebhookStore;
  deliveries: DeliveryStore;
  slots: BuildSlotStore;
  deferrals: DeferralStore;
  secrets: SecretStore;
  logs: LogStore;
  queue: Queue;
  builder: Builder;
  digests: DigestResolver;
  clock: Clock;
  sources?: SourceReader;
  publicUrl: string;
  log?: (entry: DispatchReport) => void;
}

export interface Cascade {
  tasks: TaskService;
  runs: RunService;
  dispatcher: Dispatcher;
  webhooks: WebhookService;
  /** Queues normalized events that arrive without a webhook (EventBridge), deduplicated. */
  intake: EventIntake;
  registryLogins: RegistryLogins;
  /** Handles one queue message; throws to have it retried. */
  process(message: QueueMessage): Promise<void>;
}

export function createCascade(ports: CascadePorts): Cascade {
  const tasks = new TaskService(ports);
  const runs = new RunService(ports);
  const dispatcher = new Dispatcher({ ...ports, runs });
  const webhooks = new WebhookService(ports);
  const registryLogins = new RegistryLogins(ports.secrets);
  return {
    tasks,
    runs,
    dispatcher,
    webhooks,
    intake: new EventIntake(ports),
    registryLogins,
    async process(message) {
      switch (message.type) {
        case 'event':
          await dispatcher.dispatch(message.event, message.forTask);
          return;
        case 'start-run':
          await runs.start(message.runId);
          return;
        case 'build-result':
          await runs.recordResult(message.result);
          return;
      }
    },
  };
}
