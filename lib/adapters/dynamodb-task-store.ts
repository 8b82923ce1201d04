import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError } from '../domain/errors';
import type { TaskStore } from '../domain/ports';
import type { Task } from '../domain/types';
import { normalizeGitUrl as defaultNormalizeGitUrl } from '../events/git-url';
import {
  createDocumentClient,
  isConditionFailed,
  queryAll,
  recordOf,
  withoutUndefined,
  type DynamoDbStoreOptions,
  type Item,
} from './dynamodb-client';
import { GSI1, GSI2, keys } from './dynamodb-table';

export interface DynamoDbTaskStoreOptions extends DynamoDbStoreOptions {
  normalizeGitUrl?: (url: string) => string;
}

/** BatchGetItem reads at most 100 items a request. */
const BATCH_GET_MAX = 100;

export class DynamoDbTaskStore implements TaskStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly normalizeGitUrl: (url: string) => string;

  constructor(options: DynamoDbTaskStoreOptions) {
    this.client = options.client ?? createDocumentClient();
    this.tableName = options.tableName;
    this.normalizeGitUrl = options.normalizeGitUrl ?? defaultNormalizeGitUrl;
  }

  async create(task: Task): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.toItem(task),
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) throw new ConflictError(`task "${task.name}" already exists`);
      throw error;
    }
  }

  async get(name: string): Promise<Task | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.task(name), ConsistentRead: true }),
    );
    return result.Item ? recordOf<Task>(result.Item) : undefined;
  }

  async getMany(names: string[]): Promise<Map<string, Task>> {
    const found = new Map<string, Task>();
    const unique = [...new Set(names)];
    for (let i = 0; i < unique.length; i += BATCH_GET_MAX) {
      let keysLeft: Array<Record<string, unknown>> = unique.slice(i, i + BATCH_GET_MAX).map((name) => ({ ...keys.task(name) }));
      // DynamoDB may answer part of a batch and hand the rest back; at most a few rounds.
      for (let round = 0; keysLeft.length > 0; round += 1) {
        if (round > 0) await sleep(Math.min(1000, 25 * 2 ** round));
        const result = await this.client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keysLeft, ConsistentRead: true } } }));
        for (const item of result.Responses?.[this.tableName] ?? []) {
          const task = recordOf<Task>(item);
          found.set(task.name, task);
        }
        keysLeft = (result.UnprocessedKeys?.[this.tableName]?.Keys as Array<Record<string, unknown>> | undefined) ?? [];
      }
    }
    return found;
  }

  async put(task: Task): Promise<void> {
    // A whole-item put also drops the git-context index keys when the context stops being git.
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: this.toItem(task) }));
  }

  async delete(name: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: keys.task(name) }));
  }

  async list(): Promise<Task[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: GSI1,
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.allTasks },
    });
    return items.map((item) => recordOf<Task>(item));
  }

  async listByGitContext(repoUrl: string, branch: string): Promise<Task[]> {
    // Normalizing is idempotent, so a caller that already normalized gets the same key.
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: GSI2,
      KeyConditionExpression: 'GSI2PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.gitContext(this.normalizeGitUrl(repoUrl), branch) },
    });
    return items.map((item) => recordOf<Task>(item));
  }

  private toItem(task: Task): Item {
    const gitIndex =
      task.context.kind === 'git'
        ? {
            GSI2PK: keys.gitContext(this.normalizeGitUrl(task.context.url), task.context.branch),
            GSI2SK: keys.taskInGitContext(task.name),
          }
        : {};
    return { ...withoutUndefined(task), ...keys.task(task.name), ...keys.taskList(task.name), ...gitIndex };
  }
}
