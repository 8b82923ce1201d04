import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../domain/ports';
import { createDocumentClient } from './dynamodb-client';
import { DynamoDbBuildSlotStore } from './dynamodb-build-slot-store';
import { DynamoDbDeliveryStore } from './dynamodb-delivery-store';
import { DynamoDbDependencyStore } from './dynamodb-dependency-store';
import { DynamoDbGateStore } from './dynamodb-gate-store';
import { DynamoDbNotificationStore } from './dynamodb-notification-store';
import { DynamoDbImageStateStore } from './dynamodb-image-state-store';
import { DynamoDbPollStateStore } from './dynamodb-poll-state-store';
import { DynamoDbRunOpenings } from './dynamodb-run-openings';
import { DynamoDbRunStore } from './dynamodb-run-store';
import { DynamoDbTaskStore } from './dynamodb-task-store';
import { DynamoDbTimerStateStore } from './dynamodb-timer-state-store';
import { DynamoDbWebhookStore } from './dynamodb-webhook-store';

export interface DynamoDbStoresOptions {
  client?: DynamoDBDocumentClient;
  tableName: string;
  runIdPrefix?: string;
  clock?: Clock;
  normalizeGitUrl?: (url: string) => string;
}

export interface DynamoDbStores {
  tasks: DynamoDbTaskStore;
  runs: DynamoDbRunStore;
  dependencies: DynamoDbDependencyStore;
  imageStates: DynamoDbImageStateStore;
  webhooks: DynamoDbWebhookStore;
  deliveries: DynamoDbDeliveryStore;
  slots: DynamoDbBuildSlotStore;
  openings: DynamoDbRunOpenings;
  gates: DynamoDbGateStore;
  timerStates: DynamoDbTimerStateStore;
  pollStates: DynamoDbPollStateStore;
  notifications: DynamoDbNotificationStore;
}

/** Every store on one table, sharing one client. */
export function createDynamoDbStores(options: DynamoDbStoresOptions): DynamoDbStores {
  const client = options.client ?? createDocumentClient();
  const { tableName } = options;
  return {
    tasks: new DynamoDbTaskStore({ client, tableName, normalizeGitUrl: options.normalizeGitUrl }),
    runs: new DynamoDbRunStore({ client, tableName, runIdPrefix: options.runIdPrefix, clock: options.clock }),
    dependencies: new DynamoDbDependencyStore({ client, tableName }),
    imageStates: new DynamoDbImageStateStore({ client, tableName }),
    webhooks: new DynamoDbWebhookStore({ client, tableName }),
    deliveries: new DynamoDbDeliveryStore({ client, tableName, clock: options.clock }),
    slots: new DynamoDbBuildSlotStore({ client, tableName }),
    openings: new DynamoDbRunOpenings({ client, tableName, clock: options.clock }),
    gates: new DynamoDbGateStore({ client, tableName, clock: options.clock }),
    timerStates: new DynamoDbTimerStateStore({ client, tableName }),
    pollStates: new DynamoDbPollStateStore({ client, tableName }),
    notifications: new DynamoDbNotificationStore({ client, tableName, clock: options.clock }),
  };
}
