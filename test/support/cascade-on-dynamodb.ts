// A Cascade as the Lambda functions get it, with the records in DynamoDB Local (storage matters
// to every handler: dedupe, run transitions, dependencies). The queue and builder record what
// they are asked, and secrets and logs stay in memory: what the handlers do with them does not
// depend on where they are kept.
import { createDynamoDbStores, type DynamoDbStores } from '../../lib/adapters/dynamodb-stores';
import { createCascade, type Cascade, type CascadePorts } from '../../lib/domain/cascade';
import { systemClock } from '../../lib/domain/ports';
import type { CreateTaskInput } from '../../lib/domain/inputs';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from './dynamodb';
import { MemoryDigestResolver, MemoryLogStore, MemoryQueue, MemorySecretStore } from './memory-ports';
import { RecordingBuilder } from './recording-builder';
import { HttpNotificationSender } from '../../lib/adapters/http-notification-sender';
import { getProvider } from '../../lib/events';

export interface TestCascade {
  cascade: Cascade;
  stores: DynamoDbStores;
  queue: MemoryQueue;
  builder: RecordingBuilder;
  secrets: MemorySecretStore;
  logs: MemoryLogStore;
  digests: MemoryDigestResolver;
  table: TestTable;
}

export const PUBLIC_URL = 'https://r4nd0m1d.execute-api.eu-west-1.amazonaws.com';

/** A fresh table per call, so tests do not see each other's records. */
export async function cascadeOnDynamoDb(table: TestTable, overrides: Partial<CascadePorts> = {}): Promise<TestCascade> {
  const stores = createDynamoDbStores({ client: table.client, tableName: table.tableName, ...(overrides.clock && { clock: overrides.clock }) });
  const queue = new MemoryQueue();
  // Ids as CodeBuild gives them, as the functions meet them on AWS.
  const builder = new RecordingBuilder({ buildId: (_request, nth) => `cascade-dev:00000000-0000-4000-8000-${String(nth).padStart(12, '0')}` });
  const secrets = new MemorySecretStore();
  const logs = new MemoryLogStore();
  const digests = new MemoryDigestResolver();
  const cascade = createCascade({
    ...stores,
    imageState: stores.imageStates,
    secrets,
    logs,
    queue,
    builder,
    digests,
    clock: systemClock,
    publicUrl: PUBLIC_URL,
    webhookProviders: getProvider,
    notificationSender: new HttpNotificationSender(),
    ...overrides,
  });
  return { cascade, stores, queue, builder, secrets, logs, digests, table };
}

export { withDynamoDb };

/**
 * Registers hooks that give each test of the calling block a fresh Cascade on a table of its
 * own, DynamoDB Local staying up in between; the returned function gives the current test's.
 */
export function cascadePerTest(): () => TestCascade {
  let anchor: TestTable | undefined;
  let current: TestCascade | undefined;
  beforeAll(async () => {
    anchor = await withDynamoDb();
  }, DYNAMODB_START_TIMEOUT_MS);
  afterAll(() => anchor?.stop());
  beforeEach(async () => {
    current = await cascadeOnDynamoDb(await withDynamoDb());
  });
  afterEach(() => current?.table.stop());
  return () => {
    if (!current) throw new Error('cascadePerTest gives a Cascade inside tests and their hooks only');
    return current;
  };
}

export const ECR_APP = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
export const ECR_BASE = '210987654321.dkr.ecr.eu-west-1.amazonaws.com';

/** The tutorial's task, as `cascade task create` would send it. */
export function helloworldTask(overrides: Partial<CreateTaskInput> = {}): CreateTaskInput {
  return {
    name: 'helloworld',
    registry: ECR_APP,
    images: ['helloworld:{{.Run.ID}}'],
    context: 'https://github.com/example/acr-build-helloworld-node.git#main',
    file: 'Dockerfile-app',
    args: { REGISTRY_NAME: ECR_BASE },
    platform: 'linux/amd64',
    status: 'Enabled',
    baseImageTriggerEnabled: true,
    baseImageTriggerType: 'Runtime',
    commitTriggerEnabled: true,
    ...overrides,
  };
}
