// A Cascade as the Lambda functions get it, with the records in DynamoDB Local (storage matters
// to every handler: dedupe, run transitions, dependencies). The queue and builder record what
// they are asked, and secrets and logs stay in memory: what the handlers do with them does not
// depend on where they are kept.
import { createDynamoDbStores, type DynamoDbStores } from '../../../lib/adapters/dynamodb-stores';
import { createCascade, type Cascade, type CascadePorts } from '../../../lib/domain/cascade';
import type { Builder, BuildRequest, BuildState, DigestResolver, TagDigest, LogStore, Queue, QueueMessage, SecretStore } from '../../../lib/domain/ports';
import { systemClock } from '../../../lib/domain/ports';
import type { CreateTaskInput } from '../../../lib/domain/inputs';
import { withDynamoDb, type TestTable } from '../../support/dynamodb';
import { getProvider } from '../../../lib/events';

export class RecordingQueue implements Queue {
  readonly messages: QueueMessage[] = [];
  async send(message: QueueMessage): Promise<void> {
    this.messages.push(structuredClone(message));
  }
}

export class RecordingBuilder implements Builder {
  readonly started: BuildRequest[] = [];
  readonly canceled: string[] = [];
  /** What describe() answers per build id; a build not listed is missing. */
  readonly states = new Map<string, BuildState>();
  readonly described: string[][] = [];
  /** Set to make the next starts fail. */
  failWith?: Error;
  async start(request: BuildRequest): Promise<{ buildId: string }> {
    if (this.failWith) throw this.failWith;
    this.started.push(structuredClone(request));
    return { buildId: `cascade-dev:00000000-0000-4000-8000-${String(this.started.length).padStart(12, '0')}` };
  }
  async cancel(buildId: string): Promise<void> {
    this.canceled.push(buildId);
  }
  async describe(buildIds: string[]): Promise<BuildState[]> {
    this.described.push([...buildIds]);
    return buildIds.map((buildId) => this.states.get(buildId) ?? { buildId, state: 'missing', reason: `no build ${buildId} in this test` });
  }
}

export class MemorySecretStore implements SecretStore {
  readonly values = new Map<string, string>();
  async put(name: string, value: string): Promise<string> {
    this.values.set(this.refFor(name), value);
    return this.refFor(name);
  }
  async get(ref: string): Promise<string | undefined> {
    return this.values.get(ref);
  }
  async delete(ref: string): Promise<void> {
    this.values.delete(ref);
  }
  refFor(name: string): string {
    return `/cascade/test/${name}`;
  }
}

export class MemoryLogStore implements LogStore {
  readonly logs = new Map<string, string>();
  async append(runId: string, text: string): Promise<void> {
    this.logs.set(runId, (this.logs.get(runId) ?? '') + text);
  }
  async read(runId: string): Promise<string> {
    return this.logs.get(runId) ?? '';
  }
}

/** Digests of tags as a registry would answer a manifest HEAD. */
export class MapDigestResolver implements DigestResolver {
  readonly digests = new Map<string, string>();
  async resolve(ref: { registry: string; repository: string; tag: string }): Promise<string> {
    const digest = this.digests.get(`${ref.registry}/${ref.repository}:${ref.tag}`);
    if (!digest) throw new Error(`no digest for ${ref.registry}/${ref.repository}:${ref.tag} in this test`);
    return digest;
  }
  async resolveForPlatform(ref: { registry: string; repository: string; tag: string }): Promise<TagDigest> {
    const digest = await this.resolve(ref);
    return { digest, platformDigest: digest };
  }
}

export interface TestCascade {
  cascade: Cascade;
  stores: DynamoDbStores;
  queue: RecordingQueue;
  builder: RecordingBuilder;
  secrets: MemorySecretStore;
  logs: MemoryLogStore;
  digests: MapDigestResolver;
  table: TestTable;
}

export const PUBLIC_URL = 'https://r4nd0m1d.execute-api.eu-west-1.amazonaws.com';

/** A fresh table per call, so tests do not see each other's records. */
export async function cascadeOnDynamoDb(table: TestTable, overrides: Partial<CascadePorts> = {}): Promise<TestCascade> {
  const stores = createDynamoDbStores({ client: table.client, tableName: table.tableName, ...(overrides.clock && { clock: overrides.clock }) });
  const queue = new RecordingQueue();
  const builder = new RecordingBuilder();
  const secrets = new MemorySecretStore();
  const logs = new MemoryLogStore();
  const digests = new MapDigestResolver();
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
    ...overrides,
  });
  return { cascade, stores, queue, builder, secrets, logs, digests, table };
}

export { withDynamoDb };

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
